import type { InputPort, OutputPort } from '../api/ports.ts';

/** A typed reference to an operator's input port, returned by `dag.add`. */
export interface InputHandle<T> {
  readonly direction: 'input';
  readonly operator: string;
  readonly port: string;
  /** Phantom: contravariant in T, so a port that accepts B cannot take a stream of A unless A extends B. */
  readonly __accepts?: (t: T) => void;
}

export interface OutputHandle<T> {
  readonly direction: 'output';
  readonly operator: string;
  readonly port: string;
  readonly __emits?: () => T;
}

/** The port handles of an operator class: one per port field, typed by the port's tuple type. */
export type PortHandles<O> = {
  readonly [K in keyof O as O[K] extends InputPort<any> | OutputPort<any>
    ? K
    : never]: O[K] extends InputPort<infer T>
    ? InputHandle<T>
    : O[K] extends OutputPort<infer T>
      ? OutputHandle<T>
      : never;
};
