/**
 * Tuple taps (Apex's live recording): a bounded live sample of the tuples crossing one port. A tap sets
 * the `tap` hook of the port's queued channels, called once per batch by the writer; with no tap open
 * the hook is null and the writer's cost is that one check. A tap takes at most `sample` tuples per
 * second, spread over the batches it sees, each rendered as JSON of at most 1,000 characters.
 *
 * Thread-local (fused) streams have no batches to look at: a tap on them is refused.
 */
import { SluiceError } from '../core/errors.ts';
import type { ChannelPlan, PhysicalPlan } from '../plan/physical-plan.ts';
import { groupOf } from './aggregate.ts';
import type { MetricsSource, SourceChannel } from './source.ts';

export const MAX_SAMPLE = 1000;
const MAX_CHARS = 1000;

export class TapError extends SluiceError {
  constructor(message: string) {
    super('SLUICE_TAP', message);
  }
}

export interface TapSample {
  /** Milliseconds since the epoch when the batch was written. */
  atMs: number;
  /** The tuples taken, as JSON (cut at 1,000 characters). */
  tuples: string[];
  /** Tuples that crossed the port and were not taken since the previous sample. */
  skipped: number;
}

export interface Tap {
  readonly port: string;
  readonly channels: number;
  close(): void;
}

/** Opens taps on a run's ports: `Taps` over the channels of this thread, or a container run's. */
export interface TapOpener {
  /** Opens a tap on OPERATOR.PORT; `deliver` gets a sample at most every 200 ms while tuples flow. */
  open(spec: string, sample: number, deliver: (s: TapSample) => void): Tap;
}

export function checkSample(sample: number): void {
  if (!Number.isInteger(sample) || sample < 1 || sample > MAX_SAMPLE) {
    throw new TapError(`--sample ${sample}: expected an integer from 1 to ${MAX_SAMPLE} (tuples per second)`);
  }
}

/**
 * The channels a tap on OPERATOR.PORT (or ACTOR.PORT, an actor of `sluice plan`) sees: the port's outputs,
 * else its inputs; refused if fused.
 */
export function channelsOfPort(plan: PhysicalPlan, spec: string): ChannelPlan[] {
  const dot = spec.lastIndexOf('.');
  if (dot <= 0 || dot === spec.length - 1)
    throw new TapError(`--port ${spec}: expected OPERATOR.PORT (e.g. count.out)`);
  const operator = spec.slice(0, dot);
  const port = spec.slice(dot + 1);
  let members = new Set(plan.actors.filter((a) => groupOf(a) === operator).map((a) => a.id));
  // Or one actor, named as `sluice plan` names it (`name#1`, `stream:unifier`, a layer `stream:unifier[0.1]`).
  if (members.size === 0 && plan.actors.some((a) => a.id === operator)) members = new Set([operator]);
  if (members.size === 0) {
    const names = [...new Set(plan.actors.map(groupOf))].join(', ');
    throw new TapError(`no operator "${operator}" in "${plan.applicationName}" (operators: ${names})`);
  }
  let channels = plan.channels.filter((c) => members.has(c.from.actor) && c.from.port === port);
  if (channels.length === 0)
    channels = plan.channels.filter((c) => members.has(c.to.actor) && c.to.port === port);
  if (channels.length === 0) throw new TapError(`operator "${operator}" has no connected port "${port}"`);
  const fused = channels.find((c) => c.fused);
  if (fused) {
    throw new TapError(
      `${spec} is on the thread-local stream "${fused.stream}": fused calls have no batches to sample; tap the port upstream or downstream of it`,
    );
  }
  return channels;
}

/** Renders a tuple as JSON, whatever it holds (BigInt, Map, Set, typed arrays), cut to a bounded length. */
export function renderTuple(t: unknown): string {
  let s: string;
  try {
    s =
      JSON.stringify(t, (_k, v) => {
        if (typeof v === 'bigint') return `${v}n`;
        if (v instanceof Map) return Object.fromEntries(v);
        if (v instanceof Set) return [...v];
        if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>).slice(0, 64);
        return v;
      }) ?? String(t);
  } catch {
    s = String(t);
  }
  return s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS)}…` : s;
}

/** The open taps of a run, by channel: each channel's hook dispatches to the taps on it. */
export class Taps implements TapOpener {
  private readonly byChannel = new Map<number, Set<(tuples: readonly unknown[], count: number) => void>>();

  constructor(private readonly source: MetricsSource) {}

  /** Opens a tap on OPERATOR.PORT; `deliver` gets a sample at most every 200 ms while tuples flow. */
  open(spec: string, sample: number, deliver: (s: TapSample) => void): Tap {
    checkSample(sample);
    const plans = channelsOfPort(this.source.plan, spec);
    return this.openChannels(
      spec,
      plans.map((p) => p.id),
      sample,
      deliver,
    );
  }

  /** A tap on these queued channels (a container's part of a port's: those its actors write). */
  openChannels(port: string, ids: readonly number[], sample: number, deliver: (s: TapSample) => void): Tap {
    const channels = ids.map((id) => [id, this.source.channel(id)] as const);
    // Budget per 200 ms slot, so that one batch does not take a whole second's sample; and per second,
    // since a slot takes at least one (a sample below 5 a second would otherwise give 5).
    const perSlot = Math.ceil(sample / 5);
    let slot = 0;
    let taken = 0;
    let second = 0;
    let takenThisSecond = 0;
    let skipped = 0;
    let pending: string[] = [];
    // Each batch gives its share of the slot's budget, at the rate the slot before crossed the port (one
    // tuple a batch until then): the first batches of a slot — one channel's, always starting with the
    // same tuples — must not take it all, or a partitioned port shows one partition's keys only.
    let seen = 0;
    let rate = 0;
    let batches = 0;
    const hook = (tuples: readonly unknown[], count: number) => {
      const s = Math.floor(Date.now() / 200);
      if (s !== slot) {
        slot = s;
        rate = seen > 0 ? perSlot / seen : 0;
        seen = 0;
        taken = 0;
      }
      const sec = Math.floor(s / 5);
      if (sec !== second) {
        second = sec;
        takenThisSecond = 0;
      }
      seen += count;
      const room = Math.min(perSlot - taken, sample - takenThisSecond);
      if (room <= 0 || count === 0) {
        skipped += count;
        return;
      }
      const take = Math.min(room, count, rate > 0 ? Math.max(1, Math.round(count * rate)) : 1);
      const stride = count / take;
      const offset = (batches++ * 7) % Math.max(1, Math.floor(stride)); // not always the batch's first
      for (let i = 0; i < take; i++) pending.push(renderTuple(tuples[Math.floor(i * stride) + offset]));
      taken += take;
      takenThisSecond += take;
      skipped += count - take;
    };
    const timer = setInterval(() => {
      if (pending.length === 0) return;
      const out = { atMs: Date.now(), tuples: pending, skipped };
      pending = [];
      skipped = 0;
      deliver(out);
    }, 200);
    timer.unref();
    for (const [id, ch] of channels) if (ch) this.add(id, ch, hook);
    let open = true;
    return {
      port,
      channels: channels.length,
      close: () => {
        if (!open) return;
        open = false;
        clearInterval(timer);
        for (const [id, ch] of channels) if (ch) this.remove(id, ch, hook);
      },
    };
  }

  private add(id: number, ch: SourceChannel, hook: (t: readonly unknown[], n: number) => void): void {
    let hooks = this.byChannel.get(id);
    if (hooks === undefined) this.byChannel.set(id, (hooks = new Set()));
    hooks.add(hook);
    this.install(id, ch);
  }

  private remove(id: number, ch: SourceChannel, hook: (t: readonly unknown[], n: number) => void): void {
    this.byChannel.get(id)?.delete(hook);
    this.install(id, ch);
  }

  /** One hook: called directly; several: a dispatcher; none: null (the writer's check fails fast). */
  private install(id: number, ch: SourceChannel): void {
    const hooks = [...(this.byChannel.get(id) ?? [])];
    if (hooks.length === 0) {
      this.byChannel.delete(id);
      ch.tap = null;
    } else if (hooks.length === 1) ch.tap = hooks[0]!;
    else
      ch.tap = (tuples, count) => {
        for (const h of hooks) h(tuples, count);
      };
  }
}
