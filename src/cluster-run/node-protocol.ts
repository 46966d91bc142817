import type { ContainerEvent, DeployConfig } from '../container/protocol.ts';

/**
 * What the supervisor and a node say about an application's containers (bodies of call and note frames).
 *
 *   supervisor → node calls:  prepare(module) → {hash}, deploy(DeployRequest) → last logged window,
 *                             start, proposeStop → windows, setFinalWindow, failActor, terminate(app),
 *                             openTap(app, epoch, c, tap, port, channels, sample), closeTap(app, epoch, c, tap)
 *   supervisor → node notes:  notice (done / commit, for every container of the app on that node)
 *   node → supervisor calls:  store(app, epoch, op, …args)  (refused unless epoch is the app's current one)
 *   node → supervisor notes:  hello (data URL), ev (a container's event: its beats carry its metrics,
 *                             tap events the samples of an open tap), died, link-lost
 */
export type DeployRequest = {
  readonly app: string;
  /** The application module's file URL: each node loads it from its own disk. */
  readonly module: string;
  readonly epoch: number;
  /** The application's container count (the plan is cut into this many). */
  readonly containers: number;
  readonly storeLocation: string;
  /** The containers this node hosts, with their actors. */
  readonly hosted: readonly { readonly container: number; readonly actors: readonly string[] }[];
  /** Every actor as `id@container`, comma-joined: the node checks its containers planned alike. */
  readonly expected: string;
  /** Every cross-container stream of the plan, with the data URL of its consumer's node. */
  readonly links: readonly {
    readonly channel: number;
    readonly from: number;
    readonly to: number;
    readonly toUrl: string;
  }[];
  readonly config: DeployConfig;
};

export type NodeEvent =
  | { t: 'hello'; dataUrl: string }
  | { t: 'ev'; app: string; epoch: number; c: number; e: ContainerEvent }
  | { t: 'died'; app: string; epoch: number; c: number; reason: string }
  | { t: 'link-lost'; app: string; epoch: number; remote: string };
