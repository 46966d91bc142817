import type { ChannelPlan, PhysicalPlan } from '../plan/physical-plan.ts';
import { unbufferedChannels } from '../plan/replay-buffers.ts';
import type { Actor } from './actor.ts';
import type { ActorHost } from './actor-host.ts';
import { Channel, type ChannelSource } from './channel.ts';
import { OperatorFailure } from './failure.ts';
import { FusedLink } from './fused-link.ts';
import { InputActor } from './input-actor.ts';
import { OperatorActor } from './operator-actor.ts';
import { ChannelWriter, type Outlet } from './outlets.ts';
import { WindowEnds } from './window-ends.ts';

/**
 * How long one actor's turn in a scheduling pass may last (past its first message): an actor with slow
 * tuples must not keep the inputs beside it in its thread from emitting, or a merge in another container
 * waits for them (two keyed partitions would take turns instead of running side by side).
 */
const STEP_MS = 1;

/**
 * The live actors of a plan and the channels between them. Channels outlive actors: a recovery replaces
 * actors (fresh instances from their classes) and rewires them to the same channels, whose logs hold
 * what must be replayed.
 */
export class ActorGraph {
  readonly channels = new Map<number, Channel>();
  /** Fused channels' links, kept across recoveries so that emit stays one function (see FusedLink). */
  private readonly links = new Map<number, FusedLink>();
  readonly byId = new Map<string, Actor>();
  actors: Actor[] = [];
  inputActors: InputActor[] = [];
  /** Non-input actors in topological order (the scheduler walks it backwards). */
  operatorActors: OperatorActor[] = [];
  /** The newest window every actor has ended (reset whenever actors are replaced). */
  readonly ends = new WindowEnds();
  private readonly batchSize: number;
  /** Tuples across fused channels, by channel id (`metrics: { fusedTuples: true }`); outlives the actors. */
  readonly fusedCounts = new Map<number, { tuples: number }>();
  /** Channels with both ends in this thread, to their consumer's id (it may run inline). */
  private readonly inThread = new Map<number, string>();
  /** Consumers running inline (runInline), so that none is re-entered. */
  private readonly inline = new Set<string>();
  /** A consumer failed inline: none runs inline until the recovery has rebuilt the actors. */
  private inlineFailed = false;
  /** The plan's channels by producer and by consumer, in plan order (looked up per actor, not scanned). */
  private readonly planOut = new Map<string, ChannelPlan[]>();
  private readonly planIn = new Map<string, ChannelPlan[]>();

  constructor(
    private readonly plan: PhysicalPlan,
    private readonly host: ActorHost,
    options: {
      mailboxCapacity?: number;
      batchSize?: number;
      checkpointWindowCount: number;
      replayFrom?: 'buffers' | 'sources';
      metrics?: boolean | { fusedTuples?: boolean };
      /**
       * Containers: the channel object for a channel of the plan (a cross-thread end where the other actor
       * lives in another container); undefined for an ordinary in-thread channel.
       */
      channelFor?: (plan: ChannelPlan, capacity: number, source: ChannelSource) => Channel | undefined;
    },
  ) {
    this.batchSize = options.batchSize ?? 1024;
    const retain = options.checkpointWindowCount > 0 && options.replayFrom !== 'sources';
    const unbuffered = retain ? unbufferedChannels(plan) : new Set<number>();
    const operatorOf = new Map(plan.actors.map((a) => [a.id, a.operator]));
    for (const ch of plan.channels) {
      listed(this.planOut, ch.from.actor).push(ch);
      listed(this.planIn, ch.to.actor).push(ch);
    }
    for (const ch of plan.channels) {
      if (ch.fused) {
        if (typeof options.metrics === 'object' && options.metrics.fusedTuples)
          this.fusedCounts.set(ch.id, { tuples: 0 });
        continue;
      }
      const operator = operatorOf.get(ch.from.actor) ?? ch.from.actor;
      const source = { stream: ch.stream, actorId: ch.from.actor, operator };
      const capacity = options.mailboxCapacity ?? 16;
      const crossing = options.channelFor?.(ch, capacity, source);
      if (!crossing) this.inThread.set(ch.id, ch.to.actor);
      this.channels.set(
        ch.id,
        crossing ?? new Channel(ch.id, capacity, retain && !unbuffered.has(ch.id), source),
      );
    }
  }

  /**
   * A producer in this thread wrote a batch to the mailbox of `consumerId`. The consumer handles what is
   * queued now, inside the producer's emit, as a fused operator would: the batch's tuples die young and
   * in cache. Left queued until the scheduler's next pass, a burst (an endWindow emitting an application
   * window's records, a handler's fan-out) outlived scavenges and was promoted: at first only a mailbox
   * over its capacity ran its consumer here, and running it after every batch instead cut the case
   * study's CPU per reading by 10–25 % (bench/README, Containers). The consumer reads its mailbox in
   * order through its own step (merge, window ends, gate), so it does what the scheduler would have had
   * it do a moment later; only when changes. It may run its own consumers inline in turn (a DAG: no
   * actor is re-entered). A failure there is the consumer's: reported, never thrown into the producer's
   * code.
   */
  private runInline(consumerId: string): void {
    if (this.inlineFailed || this.inline.has(consumerId)) return;
    const consumer = this.byId.get(consumerId);
    if (!(consumer instanceof OperatorActor) || !consumer.ready) return;
    this.inline.add(consumerId);
    try {
      // Until its mailbox is empty, or it waits on something no inline run can give (an async endWindow).
      for (;;) {
        this.makeRoom(consumer);
        if (consumer.hasPendingHooks) consumer.runHooks();
        if (!consumer.ready || consumer.step(consumer.inletCapacity()) === 0) break;
      }
    } catch (e) {
      // Frozen as the scheduler leaves a failed actor: nothing more of it runs until the recovery.
      this.inlineFailed = true;
      consumer.busy = true;
      this.host.fail(e instanceof OperatorFailure ? e : consumer.tag('tuple', e));
    } finally {
      this.inline.delete(consumerId);
    }
  }

  /**
   * Builds fresh actors for `ids` (all of them at launch), wires them, and lets `prepare` restore each
   * one's state before anything runs. A fused upstream of a replaced actor must be replaced too.
   */
  replace(ids: ReadonlySet<string>, prepare: (actor: Actor) => void): void {
    const fresh: Actor[] = [];
    for (const plan of this.plan.actors) {
      if (!ids.has(plan.id)) continue;
      const actor = plan.isInput ? new InputActor(plan, this.host) : new OperatorActor(plan, this.host);
      this.byId.set(plan.id, actor);
      fresh.push(actor);
    }
    for (const actor of fresh) this.wire(actor, ids);
    for (const actor of fresh) prepare(actor);
    this.inlineFailed = false;
    this.actors = this.plan.actors.map((p) => this.byId.get(p.id)!);
    this.inputActors = this.actors.filter((a): a is InputActor => a instanceof InputActor);
    this.operatorActors = this.actors.filter((a): a is OperatorActor => a instanceof OperatorActor);
    this.computeGates();
    this.ends.reset(this.actors);
  }

  channelsFrom(actorId: string): Channel[] {
    return (this.planOut.get(actorId) ?? []).filter((c) => !c.fused).map((c) => this.channels.get(c.id)!);
  }

  channelsInto(actorId: string): Channel[] {
    return (this.planIn.get(actorId) ?? []).filter((c) => !c.fused).map((c) => this.channels.get(c.id)!);
  }

  private wire(actor: Actor, ids: ReadonlySet<string>): void {
    const plan = actor.plan;
    if (actor instanceof OperatorActor) {
      for (const ch of plan.inputs) {
        if (ch.fused) {
          if (!ids.has(ch.from.actor))
            throw new Error(`internal: fused upstream ${ch.from.actor} of ${plan.id} not rebuilt`);
        } else actor.addInlet(this.channels.get(ch.id)!, ch.to.port);
      }
    }
    const outlets = new Map<number, Outlet>();
    for (const ch of this.planOut.get(plan.id) ?? []) {
      let outlet: Outlet;
      if (ch.fused) {
        // Both ends of a fused channel are always replaced together: the link is kept and rebound.
        const downstream = this.byId.get(ch.to.actor) as OperatorActor;
        let link = this.links.get(ch.id);
        if (link) link.rebind(downstream, ch.to.port);
        else {
          link = new FusedLink(downstream, ch.to.port, this.fusedCounts.get(ch.id));
          this.links.set(ch.id, link);
        }
        outlet = link;
      } else {
        // An input operator's emitTuples is bounded by contract and paced by its gate: it is not drained.
        const consumer = ch.to.actor;
        const inline =
          this.inThread.has(ch.id) && !(actor instanceof InputActor) ? () => this.runInline(consumer) : null;
        const writer = new ChannelWriter(this.channels.get(ch.id)!, this.batchSize, inline);
        actor.writers.push(writer);
        outlet = writer;
      }
      actor.outlets.push(outlet);
      outlets.set(ch.id, outlet);
    }
    actor.wireOutputs((id) => outlets.get(id)!);
  }

  /** Runs inline the consumers of the full in-thread channels that keep `actor` from running. */
  private makeRoom(actor: Actor): void {
    for (const channel of actor.gate) {
      const consumer = channel.hasRoom ? undefined : this.inThread.get(channel.id);
      if (consumer !== undefined) this.runInline(consumer);
    }
  }

  /** An actor may run while every queued channel it (or a fused actor it drives) writes has room. */
  private computeGates(): void {
    for (let i = this.actors.length - 1; i >= 0; i--) {
      const actor = this.actors[i]!;
      const gate = actor.writers.map((w) => w.channel);
      for (const o of actor.outlets) if (o instanceof FusedLink) gate.push(...o.downstream.gate);
      actor.gate = gate;
    }
  }

  /**
   * One scheduling pass, sinks first, so that room frees up before upstream actors run: each ready
   * actor handles up to `budget` messages. The one pass of both the in-process and the container runtime.
   */
  drain(budget: number): boolean {
    const actors = this.operatorActors;
    let progressed = false;
    for (let i = actors.length - 1; i >= 0; i--) {
      const a = actors[i]!;
      if (a.hasPendingHooks) a.runHooks();
      if (a.ready && a.step(budget, performance.now() + STEP_MS) > 0) progressed = true;
    }
    return progressed;
  }
}

function listed<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (list === undefined) map.set(key, (list = []));
  return list;
}
