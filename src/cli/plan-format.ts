/** The physical plan as text for people, or as JSON for tools (classes by name, routes without key functions). */
import type { ActorPlan, ChannelPlan, PhysicalPlan, RoutePlan } from '../plan/physical-plan.ts';
import { unifierTrees } from './unifier-trees.ts';

export function planText(plan: PhysicalPlan): string {
  const channels = new Map(plan.channels.map((c) => [c.id, c]));
  const fused = plan.channels.filter((c) => c.fused);
  const lines = [
    `plan of "${plan.applicationName}": ${plan.actors.length} actors, ${plan.channels.length} channels ` +
      `(${fused.length} fused)`,
    '',
  ];
  for (const actor of plan.actors) {
    lines.push(`${actor.id}  ${describeActor(actor)}`);
    for (const [port, inputs] of byPort(actor.inputs))
      lines.push(`  ${port} ← ${inputs.map(fromText).join(', ')}`);
    for (const [port, routes] of actor.outputs) {
      if (routes.length === 0) lines.push(`  ${port} → (not connected)`);
      for (const route of routes) lines.push(`  ${port} → ${routeText(route, channels)}`);
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

function fromText(c: ChannelPlan): string {
  return `${c.from.actor}.${c.from.port} (#${c.id}${c.fused ? ' fused' : ''})`;
}

function toText(c: ChannelPlan | undefined, id: number): string {
  if (c === undefined) return `#${id}`;
  return `${c.to.actor}.${c.to.port} (#${c.id} ${c.stream}${c.fused ? ', fused' : ''})`;
}

function routeText(route: RoutePlan, channels: Map<number, ChannelPlan>): string {
  if (route.kind === 'single') return toText(channels.get(route.channel), route.channel);
  const targets = route.channels.map((id) => toText(channels.get(id), id)).join(', ');
  return `${route.kind === 'keyed' ? 'by key' : 'round-robin'}: ${targets}`;
}

export function planJson(plan: PhysicalPlan): string {
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
      applicationWindowCount: a.applicationWindowCount,
      inputs: a.inputs.map((c) => c.id),
      outputs: Object.fromEntries(
        [...a.outputs].map(([port, routes]) => [
          port,
          routes.map((r) => (r.kind === 'single' ? r : { kind: r.kind, channels: r.channels })),
        ]),
      ),
    })),
    channels: plan.channels,
    unifierTrees: unifierTrees(plan),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}
