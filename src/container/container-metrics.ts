/**
 * The metrics of a run on containers, on the main thread: the same collector as in one thread
 * (`RunMetrics`: snapshot, history, timeline, Prometheus), reading what the workers report with their
 * heartbeats (`RemoteMetricsSource`), and taps opened in the worker that writes the port.
 *
 * Window latency spans threads: a window starts when an input operator (in any container) opened it and
 * ends at each actor (in any container), both on the wall clock all threads share. Reports of different
 * workers arrive in any order, so an end whose start has not arrived yet waits for it (a few seconds at
 * most: a start that never comes is a window not timed, as in one thread).
 */
import type { StatusEvent } from '../engine/status.ts';
import { RemoteMetricsSource } from '../metrics/remote-source.ts';
import { RunMetrics } from '../metrics/run-metrics.ts';
import { channelsOfPort, checkSample, type Tap, type TapOpener, type TapSample } from '../metrics/taps.ts';
import { type MetricsReport, wallNow } from '../metrics/worker-report.ts';
import { containerOf } from '../plan/containers.ts';
import type { PhysicalPlan } from '../plan/physical-plan.ts';

/** An end waits this long for its window's start. */
const PENDING_MS = 5000;
const MAX_PENDING = 10_000;

/** What the collector needs of the running containers (ContainerRun). */
export interface ContainerAccess {
  doneWindow(): number;
  committed(): number;
  /** Opens (or closes) a tap in a container's current worker; false if it has none running. */
  openTap(container: number, tap: number, port: string, channels: number[], sample: number): void;
  closeTap(container: number, tap: number): void;
}

interface OpenTap {
  readonly port: string;
  /** Channel ids by the container that writes them. */
  readonly byContainer: Map<number, number[]>;
  readonly sample: number;
  readonly deliver: (s: TapSample) => void;
}

export class ContainerMetrics implements TapOpener {
  readonly collector: RunMetrics;
  private readonly source: RemoteMetricsSource;
  private pending: [string, number, number][] = [];
  private readonly taps = new Map<number, OpenTap>();
  private nextTap = 1;

  constructor(
    private readonly plan: PhysicalPlan,
    private readonly access: ContainerAccess,
  ) {
    this.source = new RemoteMetricsSource(plan, access);
    this.collector = new RunMetrics(this.source, wallNow, this);
  }

  start(): void {
    this.collector.start();
  }

  stop(): void {
    this.collector.stop();
  }

  onStatus(e: StatusEvent): void {
    this.collector.onStatus(e);
  }

  /**
   * A worker's heartbeat report; `owner` is that worker's handle (a new one for a replaced container).
   * True when the report names another origin than the container's last one (RemoteMetricsSource).
   */
  absorb(owner: object, r: MetricsReport): boolean {
    const moved = this.source.absorb(owner, r);
    const c = this.collector;
    for (const [w, at] of r.opened) c.windowOpened(w, at);
    if (this.pending.length > 0 || r.ended.length > 0) {
      const now = wallNow();
      const waiting = this.pending.concat(r.ended as [string, number, number][]);
      this.pending = [];
      for (const e of waiting) {
        const [actorId, w, at] = e;
        if (c.hasStart(w) || now - at > PENDING_MS) c.windowEnded(actorId, w, at);
        else this.pending.push(e);
      }
      if (this.pending.length > MAX_PENDING) this.pending = this.pending.slice(-MAX_PENDING);
    }
    return moved;
  }

  /** The counts carried per origin, and taking them up again: see RemoteMetricsSource.carried. */
  carried(): Record<string, Record<string, number>> {
    return this.source.carried();
  }

  seed(saved: Record<string, Record<string, number>>): void {
    this.source.seed(saved);
  }

  // ---- taps: opened where the port's channels are written -------------------------------------------

  open(spec: string, sample: number, deliver: (s: TapSample) => void): Tap {
    checkSample(sample);
    const channels = channelsOfPort(this.plan, spec);
    const byId = new Map(this.plan.actors.map((a) => [a.id, a]));
    const byContainer = new Map<number, number[]>();
    for (const ch of channels) {
      const c = containerOf(byId.get(ch.from.actor)!);
      const list = byContainer.get(c);
      if (list) list.push(ch.id);
      else byContainer.set(c, [ch.id]);
    }
    const id = this.nextTap++;
    // The sample rate is the whole port's: shared between the workers writing it.
    const tap = {
      port: spec,
      byContainer,
      sample: Math.max(1, Math.ceil(sample / byContainer.size)),
      deliver,
    };
    this.taps.set(id, tap);
    for (const c of byContainer.keys()) this.openIn(c, id, tap);
    let open = true;
    return {
      port: spec,
      channels: channels.length,
      close: () => {
        if (!open) return;
        open = false;
        this.taps.delete(id);
        for (const c of byContainer.keys()) this.access.closeTap(c, id);
      },
    };
  }

  /** A sample from a worker. */
  tapSample(tap: number, sample: TapSample): void {
    this.taps.get(tap)?.deliver(sample);
  }

  /** A container's new worker runs: the taps open on its channels open there again. */
  started(container: number): void {
    for (const [id, tap] of this.taps) if (tap.byContainer.has(container)) this.openIn(container, id, tap);
  }

  private openIn(container: number, id: number, tap: OpenTap): void {
    this.access.openTap(container, id, tap.port, tap.byContainer.get(container)!, tap.sample);
  }
}
