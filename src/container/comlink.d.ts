// comlink has no "exports" map: its ES module builds are imported by path. Typed here with what sluice
// uses, self-contained (comlink's own declarations need the DOM library, which the build does not load).
declare module 'comlink/dist/esm/comlink.mjs' {
  export interface Endpoint {
    postMessage(message: unknown, transfer?: unknown[]): void;
    addEventListener(type: string, listener: (event: unknown) => void): void;
    removeEventListener(type: string, listener: (event: unknown) => void): void;
    start?(): void;
  }
  export const releaseProxy: unique symbol;
  /** Every method of T, called across the endpoint: a promise of its result. */
  export type Remote<T> = {
    [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
  } & { [releaseProxy](): void };
  export function wrap<T>(endpoint: Endpoint): Remote<T>;
  export function expose(value: unknown, endpoint?: Endpoint): void;
  export function transfer<T>(value: T, transfers: unknown[]): T;
}
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink/dist/esm/comlink.mjs';
  export interface NodeEndpoint {
    postMessage(message: any, transfer?: any[]): void;
    on(type: string, listener: (...args: any[]) => void): void;
    off(type: string, listener: (...args: any[]) => void): void;
    start?: () => void;
  }
  export default function nodeEndpoint(endpoint: NodeEndpoint): Endpoint;
}
