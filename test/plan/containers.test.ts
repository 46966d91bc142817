import { describe, expect, it } from 'vitest';
import { Collected, CollectSink, MapOperator, SequenceSource } from '../../actors/index.ts';
import type { DagBuilder } from '../../src/dag/dag-builder.ts';
import { application, type PhysicalPlan, planPhysical } from '../../src/index.ts';
import {
  assignContainers,
  ContainerCountError,
  channelTransport,
  containerOf,
} from '../../src/plan/containers.ts';

function plan(build: (dag: DagBuilder) => void): PhysicalPlan {
  return planPhysical(application('placement', build).dag());
}

const containerMap = (p: PhysicalPlan) => Object.fromEntries(p.actors.map((a) => [a.id, a.container]));
const double = { fn: (n: number) => 2 * n };
const sink = () => ({ into: new Collected<number>() });

describe('assignContainers', () => {
  it('gives every actor, partitions and unifiers alike, a container in [0, N)', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 5, unifierLimit: 2 });
      const map = dag.add('map', MapOperator<number, number>, double);
      dag.stream('numbers', source.out, map.in);
      dag.stream('out', map.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    for (const n of [1, 2, 3, 4, 7]) {
      const placed = assignContainers(p, n);
      expect(placed.actors.map((a) => a.id)).toEqual(p.actors.map((a) => a.id));
      for (const a of placed.actors) {
        expect(a.container, a.id).toBeGreaterThanOrEqual(0);
        expect(a.container, a.id).toBeLessThan(n);
      }
    }
  });

  it('leaves the plan it is given unplaced (the in-process runtime reads container 0)', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 2 });
      dag.stream('numbers', source.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    assignContainers(p, 2);
    expect(p.actors.every((a) => a.container === undefined && containerOf(a) === 0)).toBe(true);
  });

  it('spreads the 4 partitions of a stage 2 and 2 over 2 containers, and one per container over 4', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {});
      const map = dag.add('map', MapOperator<number, number>, double, { partitions: 4 });
      dag.stream('numbers', source.out, map.in);
      dag.stream('out', map.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    const count = (placed: PhysicalPlan, c: number) =>
      placed.actors.filter((a) => a.operator === 'map' && a.kind === 'operator' && a.container === c).length;
    const two = assignContainers(p, 2);
    expect([count(two, 0), count(two, 1)]).toEqual([2, 2]);
    const four = assignContainers(p, 4);
    expect([0, 1, 2, 3].map((c) => count(four, c))).toEqual([1, 1, 1, 1]);
  });

  it('keeps both ends of thread and container streams together, partition by partition', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 3 });
      const a = dag.add('a', MapOperator<number, number>, double);
      const b = dag.add('b', MapOperator<number, number>, double);
      dag.stream('s1', source.out, a.in).parallel().locality('container');
      dag.stream('s2', a.out, b.in).locality('thread');
      dag.stream('out', b.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    const placed = containerMap(assignContainers(p, 3));
    for (const i of [0, 1, 2]) {
      expect(placed[`a#${i}`]).toBe(placed[`source#${i}`]);
      expect(placed[`b#${i}`]).toBe(placed[`source#${i}`]);
    }
    expect(new Set([0, 1, 2].map((i) => placed[`source#${i}`])).size).toBe(3);
  });

  it('puts a container stream through a unifier in one container: partitions, unifier and downstream', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 4 });
      const map = dag.add('map', MapOperator<number, number>, double);
      dag.stream('numbers', source.out, map.in).locality('container');
      dag.stream('out', map.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    const placed = assignContainers(p, 3);
    const together = placed.actors.filter((a) => a.id !== 'sink').map((a) => a.container);
    expect(new Set(together).size).toBe(1);
    expect(together).toHaveLength(6); // 4 partitions, the unifier, map
  });

  it('places unifiers, a cascade included, in the container of their downstream', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 8, unifierLimit: 2 });
      const map = dag.add('map', MapOperator<number, number>, double);
      dag.stream('numbers', source.out, map.in);
      dag.stream('out', map.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    const placed = assignContainers(p, 3);
    const byId = new Map(placed.actors.map((a) => [a.id, a]));
    const unifiers = placed.actors.filter((a) => a.kind === 'unifier');
    expect(unifiers.length).toBeGreaterThan(2); // a cascade: layers of 4, 2 and 1
    for (const u of unifiers) {
      const out = placed.channels.find((c) => c.from.actor === u.id)!;
      expect(u.container, u.id).toBe(byId.get(out.to.actor)!.container);
    }
  });

  it("places the case study's sinks (averages, alerts) in Average's container on 2 and 3 containers", async () => {
    const { default: app } = await import('../../examples/machine-data/app.ts');
    for (const n of [2, 3]) {
      const placed = containerMap(assignContainers(planPhysical(app.dag()), n));
      expect(placed.averages, `${n} containers`).toBe(placed.average);
      expect(placed.alerts, `${n} containers`).toBe(placed.average);
      // the partitions still spread
      expect(placed['prereq#0']).not.toBe(placed['prereq#1']);
    }
  });

  it('puts a sink with its one upstream once every container holds work, and spreads before that', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {});
      const map = dag.add('map', MapOperator<number, number>, double);
      dag.stream('numbers', source.out, map.in).locality('node');
      dag.stream('out', map.out, dag.add('sink', CollectSink<number>, sink()).in).locality('node');
    });
    const two = containerMap(assignContainers(p, 2));
    expect(two.map).not.toBe(two.source);
    expect(two.sink).toBe(two.map);
    const three = containerMap(assignContainers(p, 3));
    expect(new Set([three.source, three.map, three.sink]).size).toBe(3);
  });

  it('names each channel transport: fused, mailbox within a container, message-port across', () => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 2 });
      const a = dag.add('a', MapOperator<number, number>, double);
      const b = dag.add('b', MapOperator<number, number>, double);
      dag.stream('s1', source.out, a.in).parallel();
      dag.stream('s2', a.out, b.in).locality('thread');
      dag.stream('out', b.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    const placed = assignContainers(p, 2);
    const kinds = new Set(placed.channels.map((c) => channelTransport(placed, c)));
    expect(kinds).toEqual(new Set(['fused', 'mailbox', 'message-port']));
    for (const c of placed.channels.filter((c) => c.stream === 's2'))
      expect(channelTransport(placed, c)).toBe('fused');
    const one = assignContainers(p, 1);
    expect(one.channels.every((c) => channelTransport(one, c) !== 'message-port')).toBe(true);
  });

  it('places the same plan the same way every time', () => {
    const build = (dag: DagBuilder) => {
      const source = dag.add('source', SequenceSource, {}, { partitions: 3 });
      const map = dag.add('map', MapOperator<number, number>, double, { partitions: 5 });
      dag.stream('numbers', source.out, map.in).roundRobin();
      dag.stream('out', map.out, dag.add('sink', CollectSink<number>, sink()).in);
    };
    expect(containerMap(assignContainers(plan(build), 4))).toEqual(
      containerMap(assignContainers(plan(build), 4)),
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s containers with SLUICE_CONTAINERS', (n) => {
    const p = plan((dag) => {
      const source = dag.add('source', SequenceSource, {});
      dag.stream('numbers', source.out, dag.add('sink', CollectSink<number>, sink()).in);
    });
    expect(() => assignContainers(p, n)).toThrow(ContainerCountError);
  });
});
