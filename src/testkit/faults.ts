/** A fault to inject into a test run. Each fires once, however often its place is reached again. */
export type Fault =
  /**
   * The operator of `actor` throws in `call` of window `window` (for 'tuple': at its `tuple`-th tuple;
   * 'endWindowAsync': endWindow returns a rejected promise; 'committed': the hook for commit `window`).
   */
  | {
      kind: 'throw';
      actor: string;
      window: number;
      call: 'beginWindow' | 'endWindow' | 'endWindowAsync' | 'emitTuples' | 'tuple' | 'committed';
      tuple?: number;
    }
  /** The whole runtime dies (as with SIGKILL) once window `window` is done, and is launched again. */
  | {
      kind: 'relaunch';
      window: number;
      /** Die when that window is done (default), or amid its checkpoint: after the n-th snapshot lands. */
      atSnapshot?: number;
    }
  /** Writing the snapshot of `actor` at window `window` fails (a full or failing disk). */
  | { kind: 'store'; actor: string; window: number }
  /** The snapshot of `actor` at window `window` is damaged on disk after it was written. */
  | { kind: 'corrupt'; actor: string; window: number }
  /**
   * A timing fault (what load does on the real clock): input operator `actor` is cut after `calls`
   * emitTuples() calls in window `window`, early (mid-burst) or late (after it went idle). Not a failure:
   * it moves a window boundary, every time that window is emitted live, so a fault-free run with the same
   * cuts has the same boundaries.
   */
  | CutFault
  /**
   * Runs on containers only (`containers` ≥ 2; not generated, and ignored, in one thread): container
   * `container`'s worker is hard-killed ('container-kill', as a crash would) or stuck in an endless loop
   * ('container-hang': it stops answering heartbeats) once it reaches window `window`.
   */
  | ContainerFault;

export type CutFault = { kind: 'cut'; actor: string; window: number; calls: number };

export type ContainerFault =
  | { kind: 'container-kill'; container: number; window: number }
  | { kind: 'container-hang'; container: number; window: number };

export function isContainerFault(f: Fault): f is ContainerFault {
  return f.kind === 'container-kill' || f.kind === 'container-hang';
}

export function isCut(f: Fault): f is CutFault {
  return f.kind === 'cut';
}

export class InjectedFault extends Error {
  constructor(readonly fault: Fault) {
    super(`injected fault: ${describeFault(fault)}`);
    this.name = 'InjectedFault';
  }
}

export function describeFault(f: Fault): string {
  if (f.kind === 'relaunch') {
    const when = f.atSnapshot
      ? `after snapshot #${f.atSnapshot} of window ${f.window}`
      : `after window ${f.window}`;
    return `kill and relaunch ${when}`;
  }
  if (f.kind === 'container-kill') return `container ${f.container} is killed at window ${f.window}`;
  if (f.kind === 'container-hang')
    return `container ${f.container} hangs (an endless loop) at window ${f.window}`;
  if (f.kind === 'cut') return `window ${f.window} of ${f.actor} is cut after ${f.calls} emitTuples() calls`;
  if (f.kind === 'store') return `the snapshot of ${f.actor} at window ${f.window} fails to write`;
  if (f.kind === 'corrupt')
    return `the snapshot of ${f.actor} at window ${f.window} is damaged after writing`;
  return `${f.actor} throws in ${f.call}${f.call === 'tuple' ? ` #${f.tuple ?? 1}` : ''} of window ${f.window}`;
}

/** Holds a schedule and remembers which faults fired (across restarts and relaunches). */
export class FaultInjector {
  readonly fired: Fault[] = [];
  private readonly pending: Fault[];

  private readonly cuts: CutFault[];

  constructor(faults: readonly Fault[]) {
    this.cuts = faults.filter(isCut);
    this.pending = faults.filter((f) => !isCut(f));
  }

  /** Throws if a 'throw' fault is scheduled here. `tuple` is the 1-based tuple count in the window. */
  check(actor: string, window: number, call: string, tuple = 0): void {
    const i = this.pending.findIndex(
      (f) =>
        f.kind === 'throw' &&
        f.actor === actor &&
        f.window === window &&
        f.call === call &&
        (call !== 'tuple' || (f.tuple ?? 1) === tuple),
    );
    if (i < 0) return;
    const [fault] = this.pending.splice(i, 1);
    this.fired.push(fault!);
    throw new InjectedFault(fault!);
  }

  /** Throws if writing this snapshot is scheduled to fail. */
  checkStore(actor: string, window: number): void {
    const i = this.pending.findIndex((f) => f.kind === 'store' && f.actor === actor && f.window === window);
    if (i < 0) return;
    const [fault] = this.pending.splice(i, 1);
    this.fired.push(fault!);
    throw new InjectedFault(fault!);
  }

  /** Whether this freshly written snapshot is to be damaged (the fault fires once). */
  takeCorruption(actor: string, window: number): boolean {
    const i = this.pending.findIndex((f) => f.kind === 'corrupt' && f.actor === actor && f.window === window);
    if (i < 0) return false;
    this.fired.push(...this.pending.splice(i, 1));
    return true;
  }

  /**
   * Where a cut fault moves the window's end (a policy, not a one-off: the same cut holds each time the
   * window is emitted live, e.g. again after the actor failed inside it). Reported as fired once.
   */
  cutAt(actor: string, window: number): number | undefined {
    const cut = this.cuts.find((f) => f.actor === actor && f.window === window);
    if (cut && !this.fired.includes(cut)) this.fired.push(cut);
    return cut?.calls;
  }

  /** The next relaunch fault still to fire, if any. */
  nextRelaunch(): Extract<Fault, { kind: 'relaunch' }> | undefined {
    const relaunches = this.pending.filter(
      (f): f is Extract<Fault, { kind: 'relaunch' }> => f.kind === 'relaunch',
    );
    return relaunches.sort((a, b) => a.window - b.window)[0];
  }

  fire(fault: Fault): void {
    const i = this.pending.indexOf(fault);
    if (i >= 0) this.pending.splice(i, 1);
    this.fired.push(fault);
  }
}
