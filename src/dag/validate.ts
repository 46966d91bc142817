import type { ApplicationAttributes } from './attributes.ts';
import { DagError } from './errors.ts';
import type { LogicalDag, LogicalOperator } from './logical-dag.ts';

/** Throws a DagError naming the operator or stream at fault; returns the operators in topological order. */
export function validateDag(dag: LogicalDag): LogicalOperator[] {
  const ops = [...dag.operators.values()];
  if (ops.length === 0 || !ops.some((o) => o.isInput)) {
    throw new DagError(
      'SLUICE_NO_INPUT_OPERATOR',
      `application "${dag.applicationName}" has no InputOperator: nothing would open windows`,
    );
  }
  for (const op of ops) checkAttributes(op);

  const connectedBy = new Map<string, string>();
  for (const stream of dag.streams) {
    for (const sink of stream.to) {
      const key = `${sink.operator}.${sink.port}`;
      const other = connectedBy.get(key);
      if (other !== undefined) {
        throw new DagError(
          'SLUICE_PORT_ALREADY_CONNECTED',
          `input port "${key}" is fed by streams "${other}" and "${stream.name}"; an input port takes one stream`,
          { operator: sink.operator, stream: stream.name },
        );
      }
      connectedBy.set(key, stream.name);
    }
  }
  for (const op of ops) {
    if (!op.isInput && op.inputPorts.length === 0) {
      throw new DagError(
        'SLUICE_NO_INPUT',
        `operator "${op.name}" has no input port and is not an InputOperator: it would never see a window`,
        { operator: op.name },
      );
    }
    for (const port of op.inputPorts) {
      if (!connectedBy.has(`${op.name}.${port}`)) {
        throw new DagError(
          'SLUICE_UNCONNECTED_PORT',
          `input port "${op.name}.${port}" is not connected: add a dag.stream(...) to it`,
          { operator: op.name },
        );
      }
    }
  }
  return topologicalOrder(dag);
}

function checkAttributes(op: LogicalOperator): void {
  const positiveInt = (key: 'partitions' | 'applicationWindowCount' | 'unifierLimit', min: number) => {
    const v = op.attrs[key];
    if (v !== undefined && (!Number.isInteger(v) || v < min)) {
      throw new DagError(
        'SLUICE_INVALID_ATTRIBUTE',
        `operator "${op.name}": ${key} must be an integer ≥ ${min} (got ${String(v)})`,
        { operator: op.name },
      );
    }
  };
  positiveInt('partitions', 1);
  positiveInt('applicationWindowCount', 1);
  positiveInt('unifierLimit', 2);
  if (op.attrs.unifier !== undefined && typeof op.attrs.unifier !== 'function') {
    throw new DagError(
      'SLUICE_INVALID_ATTRIBUTE',
      `operator "${op.name}": unifier must be an operator class`,
      {
        operator: op.name,
      },
    );
  }
}

/** Kahn's algorithm; a leftover operator lies on a cycle. */
export function topologicalOrder(dag: LogicalDag): LogicalOperator[] {
  const indegree = new Map<string, number>();
  const next = new Map<string, string[]>();
  for (const name of dag.operators.keys()) {
    indegree.set(name, 0);
    next.set(name, []);
  }
  for (const s of dag.streams) {
    for (const sink of s.to) {
      next.get(s.from.operator)!.push(sink.operator);
      indegree.set(sink.operator, indegree.get(sink.operator)! + 1);
    }
  }
  const ready = [...indegree].filter(([, d]) => d === 0).map(([n]) => n);
  const order: LogicalOperator[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(dag.operators.get(name)!);
    for (const n of next.get(name)!) {
      const d = indegree.get(n)! - 1;
      indegree.set(n, d);
      if (d === 0) ready.push(n);
    }
  }
  if (order.length < dag.operators.size) {
    const cycle = findCycle(dag, new Set([...indegree].filter(([, d]) => d > 0).map(([n]) => n)));
    const path = cycle.map((s) => `"${s.name}" (${s.from.operator} → ${s.to[0]!.operator})`).join(', ');
    throw new DagError('SLUICE_CYCLE', `the DAG has a cycle through streams ${path}`, {
      operator: cycle[0]!.from.operator,
      stream: cycle[0]!.name,
      streams: cycle.map((s) => s.name),
    });
  }
  return order;
}

/**
 * The streams of one cycle among `left`, the operators Kahn's algorithm could not order. Each of them has
 * a stream from another of them (its in-degree stayed above 0), so walking those streams backwards never
 * leaves `left` and must come back to an operator it passed: from there to here is a cycle. (A leftover
 * operator may only be downstream of a cycle; walking back is what keeps such streams out of the error.)
 */
function findCycle(
  dag: LogicalDag,
  left: ReadonlySet<string>,
): { name: string; from: { operator: string }; to: { operator: string }[] }[] {
  const into = (operator: string) => {
    for (const s of dag.streams) {
      const sink = s.to.find((t) => t.operator === operator);
      if (sink !== undefined && left.has(s.from.operator)) return { name: s.name, from: s.from, to: [sink] };
    }
    throw new Error(`operator "${operator}" has no stream from an unordered operator`); // cannot happen
  };
  const walked: ReturnType<typeof into>[] = [];
  const seen = new Map<string, number>();
  let at = [...left][0]!;
  while (!seen.has(at)) {
    seen.set(at, walked.length);
    const s = into(at);
    walked.push(s);
    at = s.from.operator;
  }
  // walked[i] enters the operator first seen at step i; the cycle is the streams from there on, reversed
  // into the direction the tuples flow.
  return walked.slice(seen.get(at)).reverse();
}

/** The application's own attributes, checked with its DAG (`sluice plan` too), before any launch. */
export function checkApplicationAttributes(name: string, attributes: ApplicationAttributes): void {
  const bad = (key: string, what: string, v: unknown) =>
    new DagError(
      'SLUICE_INVALID_ATTRIBUTE',
      `application "${name}": ${key} must be ${what} (got ${typeof v === 'string' ? JSON.stringify(v) : String(v)})`,
    );
  const { streamingWindowMs: ms, checkpointWindowCount: every } = attributes;
  // Timers are no finer than a millisecond: a shorter window is not one the runtime could keep.
  if (ms !== undefined && !(typeof ms === 'number' && Number.isFinite(ms) && ms >= 1))
    throw bad('streamingWindowMs', 'a number of milliseconds ≥ 1', ms);
  if (every !== undefined && !(Number.isInteger(every) && every >= 0))
    throw bad('checkpointWindowCount', 'an integer ≥ 0 (0: no checkpoints)', every);
}
