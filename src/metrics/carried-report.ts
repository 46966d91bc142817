/**
 * A cluster node's metrics reports, cumulative per container over every worker the node ran for it.
 *
 * A worker counts for its own life; a partial or full restart, or a relaunch after the supervisor was
 * away too long, gives a container a new worker that counts from 0. The node carries each container's
 * counts over its workers, and names itself (node id and this process's life) as the reports' origin,
 * so that whichever supervisor reads them — the one that placed the container, or a restarted or standby
 * one that never saw the earlier workers — takes the counts as they stand and a counter never goes back
 * (remote-source.ts, Carried). Only the node's own death resets them, under a new origin.
 */
import { randomBytes } from 'node:crypto';
import { Carried } from './remote-source.ts';
import type { MetricsReport, ReportedMetric } from './worker-report.ts';

type Actor = MetricsReport['actors'][number];
type Channel = MetricsReport['channels'][number];

/** One container's counts, carried over the node's workers for it. */
class ContainerCarry {
  private readonly counts = new Map<string, Carried>();
  /** The last carried report, for an adopting supervisor (its window times already sent). */
  last: MetricsReport | undefined;

  carry(worker: object, r: MetricsReport, origin: string): MetricsReport {
    const at = (key: string, value: number): number => {
      let c = this.counts.get(key);
      if (c === undefined) this.counts.set(key, (c = new Carried()));
      c.set(worker, value);
      return c.value;
    };
    const actors = r.actors.map(
      (a): Actor => ({
        ...a,
        blockedMs: at(`b ${a.id}`, a.blockedMs),
        windows: at(`w ${a.id}`, a.windows),
        checkpoints: [
          at(`c ${a.id}`, a.checkpoints[0]),
          at(`cm ${a.id}`, a.checkpoints[1]),
          at(`cb ${a.id}`, a.checkpoints[2]),
        ],
        custom: a.custom.map(
          (m): ReportedMetric => (m[1] === 'counter' ? [m[0], m[1], at(`m ${a.id} ${m[0]}`, m[2])] : m),
        ),
      }),
    );
    const channels = r.channels.map(
      (c): Channel => ({
        ...c,
        tuples: at(`t ${c.id}`, c.tuples),
        samples: at(`s ${c.id}`, c.samples),
        full: at(`f ${c.id}`, c.full),
      }),
    );
    const fused = r.fused.map((f) => ({ id: f.id, tuples: at(`ft ${f.id}`, f.tuples) }));
    const carried = { ...r, actors, channels, fused, origin };
    this.last = { ...carried, opened: [], ended: [] };
    return carried;
  }
}

export class CarriedReports {
  /** This node's life: a node restarted under the same id counts anew, under another origin. */
  readonly origin: string;
  private readonly apps = new Map<string, Map<number, ContainerCarry>>();

  constructor(nodeId: string) {
    this.origin = `${nodeId}#${randomBytes(4).toString('hex')}`;
  }

  /** `worker` stands for the container's current worker here (a new one goes on from the last one's counts). */
  carry(app: string, container: number, worker: object, r: MetricsReport): MetricsReport {
    return this.of(app, container).carry(worker, r, this.origin);
  }

  /** The container's counts as last reported (undefined before its first report here). */
  last(app: string, container: number): MetricsReport | undefined {
    return this.apps.get(app)?.get(container)?.last;
  }

  private of(app: string, container: number): ContainerCarry {
    let containers = this.apps.get(app);
    if (containers === undefined) this.apps.set(app, (containers = new Map()));
    let c = containers.get(container);
    if (c === undefined) containers.set(container, (c = new ContainerCarry()));
    return c;
  }
}
