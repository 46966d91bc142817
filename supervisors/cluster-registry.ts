import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchRequest } from '../src/cluster-run/supervisor-protocol.ts';
import { isRedisUrl } from '../src/core/urls.ts';

/**
 * The applications a supervisor runs, as their launch requests (the container count resolved), kept in
 * `launched.json` beside their stores: a supervisor restarted on the same `--store` launches them again,
 * and each continues from its committed checkpoint (its store holds the commit bookkeeping and the
 * epoch, which the new run raises, so anything left of the old one is fenced). An application that ended
 * (done, stopped, failed, killed by a launcher) is forgotten. Redis stores: not kept (no directory).
 */
export class LaunchRegistry {
  readonly #file: string | undefined;
  #launched: Record<string, LaunchRequest>;

  constructor(store: string) {
    const isDir = !isRedisUrl(store);
    this.#file = isDir ? join(store, 'launched.json') : undefined;
    this.#launched = {};
    if (this.#file) {
      try {
        this.#launched = JSON.parse(readFileSync(this.#file, 'utf8')) as Record<string, LaunchRequest>;
      } catch {
        // None yet (or unreadable: nothing to resume).
      }
    }
  }

  /** Whether `name` is kept to be resumed. */
  has(name: string): boolean {
    return name in this.#launched;
  }

  all(): LaunchRequest[] {
    return Object.values(this.#launched);
  }

  /** Application name → its launch request. */
  entries(): [string, LaunchRequest][] {
    return Object.entries(this.#launched);
  }

  record(name: string, req: LaunchRequest): void {
    this.#launched[name] = req;
    this.#save();
  }

  forget(name: string): void {
    if (!(name in this.#launched)) return;
    delete this.#launched[name];
    this.#save();
  }

  #save(): void {
    if (!this.#file) return;
    mkdirSync(join(this.#file, '..'), { recursive: true });
    const temp = `${this.#file}.tmp`;
    writeFileSync(temp, JSON.stringify(this.#launched));
    renameSync(temp, this.#file);
  }
}
