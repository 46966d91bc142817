/** The physical plan as text for people, or as JSON for tools (classes by name, routes without key functions). */
import { channelTransport, containerOf } from '../plan/containers.ts';
import type { ActorPlan, ChannelPlan, PhysicalPlan, RoutePlan } from '../plan/physical-plan.ts';
import { unifierTrees } from './unifier-trees.ts';

/**
 * `containers`: the plan was placed (assignContainers) on that many containers; each actor then names
 * its container and each channel its transport (fused, mailbox within a container, message-port across).
 */
export function planText(plan: PhysicalPlan, containers?: number): string {
  const channels = new Map(plan.channels.map((c) => [c.id, c]));
  const fused = plan.channels.filter((c) => c.fused);
  const transport = (c: ChannelPlan) => (containers === undefined ? undefined : channelTransport(plan, c));
  const crossing = plan.channels.filter((c) => transport(c) === 'message-port').length;
  const placed =
    containers === undefined
      ? ''
      : ` on ${containers} container${containers === 1 ? '' : 's'} (${crossing} channel${crossing === 1 ? '' : 's'} across containers)`;
  const lines = [
    `plan of "${plan.applicationName}": ${plan.actors.length} actors, ${plan.channels.length} channels ` +
      `(${fused.length} fused)${placed}`,
    '',
  ];
  for (const actor of plan.actors) {
    const where = containers === undefined ? '' : `, container ${containerOf(actor)}`;
    lines.push(`${actor.id}  ${describeActor(actor)}${where}`);
    for (const [port, inputs] of byPort(actor.inputs))
      lines.push(`  ${port} ← ${inputs.map((c) => fromText(c, transport(c))).join(', ')}`);
    for (const [port, routes] of actor.outputs) {
      if (routes.length === 0) lines.push(`  ${port} → (not connected)`);
      for (const route of routes) lines.push(`  ${port} → ${routeText(route, channels, transport)}`);
    }
  }
  if (containers !== undefined) {
    lines.push('', 'containers:');
    for (let c = 0; c < containers; c++) {
      const ids = plan.actors.filter((a) => containerOf(a) === c).map((a) => a.id);
      lines.push(`  ${c}: ${ids.length > 0 ? ids.join(', ') : '(no actors)'}`);
    }
  }
  const trees = unifierTrees(plan);
  if (trees.length > 0) {
    lines.push('', 'unifier layers:');
    for (const t of trees) {
      const widths = t.layers.map((l) => l.length).join(' → ');
      const layers = `${t.layers.length} layer${t.layers.length === 1 ? '' : 's'}`;
      lines.push(
        `  ${t.stream}: ${t.partitions} partitions of "${t.operator}" → ${t.downstream} through ${layers} ` +
          `of unifiers (${widths}), root ${t.root}`,
      );
    }
  }
  if (fused.length > 0) {
    lines.push('', 'fused channels (thread-local, direct calls):');
    for (const c of fused)
      lines.push(`  #${c.id} ${c.stream}: ${c.from.actor}.${c.from.port} → ${c.to.actor}.${c.to.port}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeActor(a: ActorPlan): string {
  if (a.kind === 'unifier') return `unifier ${a.cls.name} of "${a.operator}"`;
  const kind = a.isInput ? 'input operator' : 'operator';
  const partition = a.partitions > 1 ? `, partition ${a.partition} of ${a.partitions}` : '';
  const windows = a.applicationWindowCount > 1 ? `, application window ${a.applicationWindowCount}` : '';
  return `${kind} ${a.cls.name}${partition}${windows}`;
}

function byPort(inputs: readonly ChannelPlan[]): Map<string, ChannelPlan[]> {
  const ports = new Map<string, ChannelPlan[]>();
  for (const c of inputs) ports.set(c.to.port, [...(ports.get(c.to.port) ?? []), c]);
  return ports;
}

type TransportOf = (c: ChannelPlan) => string | undefined;

/** Without a placement only fused channels say how they move; with one, every channel does. */
function fromText(c: ChannelPlan, transport = c.fused ? 'fused' : undefined): string {
  return `${c.from.actor}.${c.from.port} (#${c.id}${transport ? ` ${transport}` : ''})`;
}

function toText(c: ChannelPlan | undefined, id: number, transportOf: TransportOf): string {
  if (c === undefined) return `#${id}`;
  const transport = transportOf(c) ?? (c.fused ? 'fused' : undefined);
  return `${c.to.actor}.${c.to.port} (#${c.id} ${c.stream}${transport ? `, ${transport}` : ''})`;
}

function routeText(route: RoutePlan, channels: Map<number, ChannelPlan>, transportOf: TransportOf): string {
  if (route.kind === 'single') return toText(channels.get(route.channel), route.channel, transportOf);
  const targets = route.channels.map((id) => toText(channels.get(id), id, transportOf)).join(', ');
  return `${route.kind === 'keyed' ? 'by key' : 'round-robin'}: ${targets}`;
}

/** Every actor has its `container` (0 when the plan was not placed) and every channel its `transport`. */
/** `notes`: what the text plan prints after it (`note: …` lines), each a sentence. */
export function planJson(plan: PhysicalPlan, notes: readonly string[] = []): string {
  const json = {
    application: plan.applicationName,
    actors: plan.actors.map((a) => ({
      id: a.id,
      operator: a.operator,
      kind: a.kind,
      input: a.isInput,
      class: a.cls.name,
      partition: a.partition,
      partitions: a.partitions,
      container: containerOf(a),
      applicationWindowCount: a.applicationWindowCount,
      inputs: a.inputs.map((c) => c.id),
      outputs: Object.fromEntries(
        [...a.outputs].map(([port, routes]) => [
          port,
          routes.map((r) => (r.kind === 'single' ? r : { kind: r.kind, channels: r.channels })),
        ]),
      ),
    })),
    channels: plan.channels.map((c) => ({ ...c, transport: channelTransport(plan, c) })),
    unifierTrees: unifierTrees(plan),
    notes,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}
