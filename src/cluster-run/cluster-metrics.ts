/**
 * The metrics of an application on the cluster, on the supervisor: the same collector as with
 * containers in one process (ContainerMetrics: snapshot, history, timeline, taps), fed by the reports
 * every container sends with its heartbeat, which its node relays over the cluster connection as it
 * relays the container's other events. Each actor's snapshot names the node hosting its container.
 *
 *   container ──beat{metrics}──▶ node ──note ev──▶ supervisor: ClusterRun.event → beat()
 *   supervisor ──call openTap(app, epoch, c, …)──▶ node ──▶ container: samples come back as `tap` events
 *
 * Window latency is timed on the wall clocks of the nodes that opened and ended each window: across
 * machines it is as good as their clock synchronisation (NTP: a millisecond or so).
 *
 * Counters outlive the supervisor. The nodes count per container, over every worker they ran for it
 * (carried-report.ts), so a restarted or standby supervisor takes their counts as they stand; what only
 * the supervisor counts (failures, restarts, recoveries), and the last counts of node lives that no longer
 * report for a container (it moved, or its node restarted), are kept in the application's store at each
 * such event (rare) and taken up again by the next supervisor on that store.
 */
import { ContainerMetrics } from '../container/container-metrics.ts';
import type { StatusEvent } from '../engine/status.ts';
import type { OwnCounts, RunMetrics } from '../metrics/run-metrics.ts';
import type { TapSample } from '../metrics/taps.ts';
import type { MetricsSnapshot } from '../metrics/types.ts';
import type { MetricsReport } from '../metrics/worker-report.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';

/** What the collector needs of the cluster run. */
export interface ClusterMetricsAccess {
  doneWindow(): number;
  committed(): number;
  /** The node hosting a container in the current life (undefined while it is being placed). */
  nodeOf(container: number): string | undefined;
  /** A call to the node hosting `container` (current life), for taps; never throws. */
  callNode(container: number, method: string, ...args: unknown[]): void;
  /** Where the supervisor's own counts are kept between supervisors (the application's store). */
  counts?: { load(): Promise<unknown>; save(counts: StoredCounts): Promise<void> };
  /** A problem worth a warning (the counts could not be stored). */
  warn?(message: string): void;
}

/** What a supervisor keeps in the store for the next: its own counts, and the nodes' counts per node life. */
export type StoredCounts = OwnCounts & { carried?: Record<string, Record<string, number>> };

export class ClusterMetrics {
  private readonly inner: ContainerMetrics;
  /** Stores of the counts, one at a time, in order. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    plan: PhysicalPlan,
    private readonly access: ClusterMetricsAccess,
  ) {
    this.inner = new ContainerMetrics(plan, {
      doneWindow: () => access.doneWindow(),
      committed: () => access.committed(),
      openTap: (c, tap, port, channels, sample) =>
        access.callNode(c, 'openTap', c, tap, port, channels, sample),
      closeTap: (c, tap) => access.callNode(c, 'closeTap', c, tap),
    });
    this.inner.collector.nodeOf = (c) => access.nodeOf(c);
  }

  /** The collector the console serves (history, timeline, taps). */
  get collector(): RunMetrics {
    return this.inner.collector;
  }

  snapshot(): MetricsSnapshot {
    return this.inner.collector.snapshot();
  }

  start(): void {
    this.inner.start();
  }

  /** Goes on from the counts a previous supervisor of this application stored (before start). */
  async resume(): Promise<void> {
    const stored = (await this.access.counts?.load()) as StoredCounts | undefined;
    if (stored && typeof stored.failures === 'number') this.inner.collector.resumeCounts(stored);
    if (stored?.carried) this.inner.seed(stored.carried);
  }

  stop(): void {
    this.inner.stop();
  }

  /**
   * A container's heartbeat report; `owner` stands for that container's worker (a new one when it is
   * replaced), so that its counters carry on from its predecessor's.
   */
  beat(owner: object, report: MetricsReport): void {
    // A container now counted by another node life (it moved, or its node restarted): the counts of the
    // one before are kept for the next supervisor, which would not hear of them from any node.
    if (this.inner.absorb(owner, report)) this.save();
  }

  tap(tap: number, sample: TapSample): void {
    this.inner.tapSample(tap, sample);
  }

  /** A container's worker runs: the taps open on its channels open there again. */
  started(container: number): void {
    this.inner.started(container);
  }

  onStatus(e: StatusEvent): void {
    this.inner.onStatus(e);
    if (e.type === 'failure' || e.type === 'restart' || e.type === 'recovered') this.save();
  }

  /** Stores the counts as they are now, after any store still under way. */
  private save(): void {
    const counts = this.access.counts;
    if (counts === undefined) return;
    const now: StoredCounts = { ...this.inner.collector.ownCounts(), carried: this.inner.carried() };
    this.saving = this.saving
      .then(() => counts.save(now))
      .catch((err: unknown) =>
        this.access.warn?.(`metrics: the counts for the next supervisor were not stored (${err})`),
      );
  }
}
