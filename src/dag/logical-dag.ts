import type { Operator, OperatorClass } from '../api/operator.ts';
import { type AnyInputPort, type AnyOutputPort, InputPort, OutputPort } from '../api/ports.ts';
import type { Locality, OperatorAttributes } from './attributes.ts';

export type PortInfo = { name: string; direction: 'input' | 'output' };

export interface LogicalOperator {
  readonly name: string;
  readonly cls: OperatorClass<Operator<any, any>>;
  readonly props: unknown;
  readonly attrs: OperatorAttributes;
  readonly isInput: boolean;
  readonly inputPorts: readonly string[];
  readonly outputPorts: readonly string[];
}

export type Distribution =
  | { kind: 'default' }
  | { kind: 'keyed'; keyOf: (tuple: any) => unknown }
  | { kind: 'roundRobin' }
  | { kind: 'parallel' };

export interface LogicalStream {
  readonly name: string;
  readonly from: { operator: string; port: string };
  readonly to: readonly { operator: string; port: string }[];
  locality: Locality;
  distribution: Distribution;
}

export interface LogicalDag {
  readonly applicationName: string;
  readonly operators: ReadonlyMap<string, LogicalOperator>;
  readonly streams: readonly LogicalStream[];
}

/** Finds the ports an operator instance declared, by field name. */
export function discoverPorts(instance: Operator<any, any>): { inputs: string[]; outputs: string[] } {
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const [field, value] of Object.entries(instance)) {
    if (isInputPort(value)) inputs.push(field);
    else if (isOutputPort(value)) outputs.push(field);
  }
  return { inputs, outputs };
}

export function isInputPort(v: unknown): v is AnyInputPort {
  return v instanceof InputPort;
}

export function isOutputPort(v: unknown): v is AnyOutputPort {
  return v instanceof OutputPort;
}
