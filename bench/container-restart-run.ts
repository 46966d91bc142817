/**
 * One container restart, timed, in a fresh process:
 * `node --import tsx bench/container-restart-run.ts KIND` with KIND `container` (container 1's worker
 * hard-killed at window 100, `faults`), `actor` (an actor of container 1 fails at window 100,
 * `failActor`) or `thread` (the same actor failure in a run in one thread, `containers: 0`: the
 * yardstick) prints `{ toRecovered, toWindow, startMs, restarts }`: milliseconds from the `failure` event to
 * `recovered` (replacement workers up, application module loaded, actors restored and started) and to the
 * first `window` event after it; `startMs` is launch → `started`. Real time (windows of 20 ms), 2
 * containers, the fault at window 100 (2 s in: the spare workers, started once the run is live, are
 * loaded by then), 120 windows, no backoff.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const APP = new URL('./container-restart-app.ts', import.meta.url);
const KILL_WINDOW = Number(process.env.RESTART_KILL_WINDOW ?? 100);

export interface RestartResult {
  readonly toRecovered: number;
  readonly toWindow: number;
  readonly startMs: number;
  readonly restarts: number;
}

async function once(kind: 'container' | 'actor' | 'thread'): Promise<RestartResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-restart-'));
  process.env.RESTART_OUT = join(dir, 'out');
  try {
    const { launch, RestartStrategy } = await import('../src/index.ts');
    const { default: app } = await import(APP.href);
    const t0 = performance.now();
    const run = await launch(app, {
      containers: kind === 'thread' ? 0 : 2,
      module: APP,
      store: join(dir, 'store'),
      windows: KILL_WINDOW + 20,
      restart: RestartStrategy.restart().withBackoff(0, 0),
      faults: kind === 'container' ? [{ kind: 'container', container: 1, window: KILL_WINDOW }] : [],
    });
    let startMs = 0;
    let failedAt: number | undefined;
    let recoveredAt: number | undefined;
    let windowAt: number | undefined;
    let restarts = 0;
    let drilled = false;
    run.on('status', (e) => {
      const now = performance.now();
      if (e.type === 'started') startMs = now - t0;
      if (e.type === 'failure') failedAt ??= now;
      if (e.type === 'restart') restarts++;
      if (e.type === 'recovered') recoveredAt ??= now;
      if (e.type === 'window' && recoveredAt !== undefined) windowAt ??= now;
      if (kind !== 'container' && e.type === 'window' && e.window >= KILL_WINDOW && !drilled) {
        const victim = run.plan.actors.find(
          (a) => (kind === 'thread' || a.container === 1) && a.id.startsWith('sums#'),
        );
        drilled = victim !== undefined && run.failActor(victim.id, 'bench drill');
      }
    });
    await run.done;
    if (failedAt === undefined || recoveredAt === undefined || windowAt === undefined)
      throw new Error('the run did not fail and recover');
    return { toRecovered: recoveredAt - failedAt, toWindow: windowAt - failedAt, startMs, restarts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const kind = process.argv[2] === 'actor' || process.argv[2] === 'thread' ? process.argv[2] : 'container';
  process.stdout.write(`${JSON.stringify(await once(kind))}\n`);
}
