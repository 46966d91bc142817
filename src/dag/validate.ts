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
    const onCycle = [...indegree].find(([, d]) => d > 0)![0];
    const stream = dag.streams.find((s) => s.to.some((t) => t.operator === onCycle))?.name;
    throw new DagError(
      'SLUICE_CYCLE',
      `the DAG has a cycle through operator "${onCycle}" (stream "${stream}")`,
      {
        operator: onCycle,
        stream,
      },
    );
  }
  return order;
}
