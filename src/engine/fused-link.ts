import type { OperatorActor } from './operator-actor.ts';
import type { Emit, Outlet } from './outlets.ts';

/**
 * A thread-local edge: the upstream's emit calls the downstream's input handler directly (no queue,
 * no batch). Errors thrown downstream are attributed to the downstream actor on their way up.
 */
export class FusedLink implements Outlet {
  readonly push: Emit;

  /** `counted` (metrics on): tuples crossing it are counted there, the one count per tuple (no batches). */
  constructor(
    readonly downstream: OperatorActor,
    port: string,
    counted?: { tuples: number },
  ) {
    const handler = downstream.handlerOf(port);
    const actor = downstream;
    this.push = counted
      ? (tuple) => {
          counted.tuples++;
          try {
            handler(tuple);
          } catch (e) {
            throw actor.tag('tuple', e);
          }
        }
      : (tuple) => {
          try {
            handler(tuple);
          } catch (e) {
            throw actor.tag('tuple', e);
          }
        };
  }

  begin(window: number): void {
    this.downstream.fusedBegin(window);
  }

  end(window: number): void | Promise<void> {
    return this.downstream.fusedEnd(window);
  }

  flush(): void {
    this.downstream.flushOutlets();
  }
}
