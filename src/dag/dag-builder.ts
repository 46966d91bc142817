import {
  isInputOperator,
  type Operator,
  Operator as OperatorBase,
  type OperatorClass,
} from '../api/operator.ts';
import { isWellFormed } from '../core/strings.ts';
import type { Locality, OperatorAttributes } from './attributes.ts';
import { DagError } from './errors.ts';
import type { InputHandle, OutputHandle, PortHandles } from './handles.ts';
import { discoverPorts, type LogicalDag, type LogicalOperator, type LogicalStream } from './logical-dag.ts';

type PropsOf<C> = C extends new (props?: infer P) => any ? P : never;

/**
 * dag.add's arguments after the class: props may be left out only when the class's props have no
 * required field (a source that needs `perWindow` would otherwise run on `undefined`, without a word).
 */
type AddArgs<C> =
  {} extends NonNullable<PropsOf<C>>
    ? [props?: PropsOf<C>, attrs?: OperatorAttributes]
    : [props: PropsOf<C>, attrs?: OperatorAttributes];

/** Fluent settings of one stream. */
export class StreamBuilder<T> {
  constructor(private readonly stream: LogicalStream) {}

  /** Where the ends run: `thread` fuses the downstream call into the upstream's emit. */
  locality(locality: Locality): this {
    if (!['thread', 'container', 'node', 'any'].includes(locality)) {
      throw new DagError('SLUICE_LOCALITY', `stream "${this.stream.name}": unknown locality "${locality}"`, {
        stream: this.stream.name,
      });
    }
    this.stream.locality = locality;
    return this;
  }

  /** Partitions by key: the same key always reaches the same downstream partition. */
  keyBy(keyOf: (tuple: T) => unknown): this {
    this.stream.distribution = { kind: 'keyed', keyOf };
    return this;
  }

  /** Deals tuples to downstream partitions in turn (restarting at each window, so replay is exact). */
  roundRobin(): this {
    this.stream.distribution = { kind: 'roundRobin' };
    return this;
  }

  /** Downstream partition i reads upstream partition i only (Apex's PARTITION_PARALLEL). */
  parallel(): this {
    this.stream.distribution = { kind: 'parallel' };
    return this;
  }
}

/** Collects operators and streams; `build()` validates them into a LogicalDag. */
export class DagBuilder {
  private readonly operators = new Map<string, LogicalOperator>();
  private readonly streams: LogicalStream[] = [];
  /** Handles this builder made: a handle of another DAG is refused even if its names match here. */
  private readonly issued = new WeakSet<object>();

  constructor(readonly applicationName: string) {
    checkName('application', applicationName);
  }

  add<C extends OperatorClass<Operator<any, any>>>(
    name: string,
    cls: C,
    ...[props, attrs = {}]: AddArgs<C>
  ): PortHandles<InstanceType<C>> {
    checkName('operator', name);
    if (this.operators.has(name)) {
      throw new DagError('SLUICE_DUPLICATE_NAME', `operator "${name}" is added twice; names must be unique`, {
        operator: name,
      });
    }
    if (typeof cls !== 'function' || !(cls.prototype instanceof OperatorBase)) {
      throw new DagError('SLUICE_NOT_AN_OPERATOR', `operator "${name}": the class must extend Operator`, {
        operator: name,
      });
    }
    const template = new cls(props);
    const ports = discoverPorts(template);
    const isInput = isInputOperator(template);
    if (isInput && ports.inputs.length > 0) {
      throw new DagError(
        'SLUICE_INPUT_OPERATOR_HAS_INPUT',
        `operator "${name}" is an InputOperator but declares input port "${ports.inputs[0]}"`,
        { operator: name },
      );
    }
    this.operators.set(name, {
      name,
      cls,
      props,
      attrs: { ...attrs },
      isInput,
      inputPorts: ports.inputs,
      outputPorts: ports.outputs,
    });
    const handles: Record<string, InputHandle<unknown> | OutputHandle<unknown>> = {};
    for (const port of ports.inputs) handles[port] = this.issue({ direction: 'input', operator: name, port });
    for (const port of ports.outputs)
      handles[port] = this.issue({ direction: 'output', operator: name, port });
    return Object.freeze(handles) as PortHandles<InstanceType<C>>;
  }

  /** Connects one output port to one or more input ports of the same tuple type. */
  stream<T>(
    name: string,
    from: OutputHandle<T>,
    to: InputHandle<NoInfer<T>> | readonly InputHandle<NoInfer<T>>[],
  ): StreamBuilder<T> {
    checkName('stream', name);
    if (this.streams.some((s) => s.name === name)) {
      throw new DagError('SLUICE_DUPLICATE_NAME', `stream "${name}" is added twice; names must be unique`, {
        stream: name,
      });
    }
    const sinks = Array.isArray(to) ? to : [to as InputHandle<T>];
    this.checkHandle(name, from, 'output');
    for (const sink of sinks) this.checkHandle(name, sink, 'input');
    const stream: LogicalStream = {
      name,
      from: { operator: from.operator, port: from.port },
      to: sinks.map((s) => ({ operator: s.operator, port: s.port })),
      locality: 'any',
      distribution: { kind: 'default' },
    };
    this.streams.push(stream);
    return new StreamBuilder<T>(stream);
  }

  build(): LogicalDag {
    return { applicationName: this.applicationName, operators: this.operators, streams: this.streams };
  }

  private issue<H extends object>(handle: H): H {
    Object.freeze(handle);
    this.issued.add(handle);
    return handle;
  }

  private checkHandle(stream: string, handle: unknown, direction: 'input' | 'output'): void {
    const h = handle as Partial<InputHandle<unknown>> | undefined;
    if (typeof h === 'object' && h !== null && !this.issued.has(h)) {
      throw new DagError(
        'SLUICE_UNKNOWN_PORT',
        `stream "${stream}": the ${direction === 'input' ? 'sink' : 'source'} handle ("${String(h.operator)}.${String(h.port)}") was not made by this DAG's dag.add()`,
        { stream, operator: h.operator },
      );
    }
    const op = h?.operator === undefined ? undefined : this.operators.get(h.operator);
    const ports = direction === 'input' ? op?.inputPorts : op?.outputPorts;
    if (!h || h.direction !== direction || !op || !h.port || !ports?.includes(h.port)) {
      const side = direction === 'input' ? 'sink' : 'source';
      // Say what was given: `undefined` is a misspelt port (`op.inn`), a port of the other direction
      // is a swapped pair.
      const given =
        h === undefined || h === null
          ? ` (it is ${String(h)}: a misspelt port name?)`
          : h.operator
            ? ` ("${h.operator}.${String(h.port)}"${h.direction && h.direction !== direction ? `, an ${h.direction} port` : ''}${op && ports ? `; ${h.operator}'s ${direction} ports: ${ports.join(', ') || 'none'}` : ''})`
            : '';
      throw new DagError(
        'SLUICE_UNKNOWN_PORT',
        `stream "${stream}": the ${side} is not an ${direction} port of an operator of this DAG${given}`,
        { stream, operator: h?.operator },
      );
    }
  }
}

/** Longest operator or stream name: names travel in cluster frames (text fields of at most 256). */
const MAX_NAME = 200;

/**
 * A name becomes actor ids, store keys, metric labels, Message-IDs and cluster frame fields: non-empty, of printable
 * characters (no NUL: store keys use it as a separator), well-formed UTF-16 (it is written as UTF-8), and
 * short enough for a frame.
 */
function checkName(kind: 'application' | 'operator' | 'stream', name: unknown): void {
  const what =
    kind === 'application'
      ? 'application(): an application'
      : kind === 'operator'
        ? 'dag.add: an operator'
        : 'dag.stream: a stream';
  let why: string | undefined;
  if (typeof name !== 'string' || name.length === 0) why = 'needs a non-empty name';
  else if (name.length > MAX_NAME) why = `name is longer than ${MAX_NAME} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
  else if (/[\u0000-\u001f\u007f]/.test(name)) why = `name ${JSON.stringify(name)} has a control character`;
  else if (!isWellFormed(name)) why = `name ${JSON.stringify(name)} has a lone surrogate`;
  if (why !== undefined) {
    const where = kind === 'application' ? {} : { [kind]: typeof name === 'string' ? name : String(name) };
    throw new DagError('SLUICE_INVALID_ATTRIBUTE', `${what} ${why}`, where);
  }
}
