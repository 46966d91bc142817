import type { ContainerEvent, DeployConfig } from '../container/protocol.ts';
import type { MetricsReport } from '../metrics/worker-report.ts';

/**
 * What the supervisor and a node say about an application's containers (bodies of call and note frames).
 *
 *   supervisor → node calls:  prepare(module) → {hash}, deploy(DeployRequest) → last logged window,
 *                             start, proposeStop → windows, setFinalWindow, abandon (a stop leaves a held
 *                             window unfinished), failActor, terminate(app),
 *                             openTap(app, epoch, c, tap, port, channels, sample), closeTap(app, epoch, c, tap),
 *                             retire(app, containers), rewire(app, epoch, RewireRequest[])  (a partial restart)
 *   supervisor → node notes:  notice (done / commit, for every container of the app on that node)
 *                             adopt(app, epoch) → ContainerState[] (a restarted supervisor takes over
 *                             the running containers; their held store calls go out)
 *                             heldLogs(app) → [epoch, actor, window, entry][] (window-log entries cut while
 *                             no supervisor ran the app, written before adopting or relaunching)
 *   node → supervisor calls:  store(app, epoch, op, …args)  (refused unless a container of that node runs in that epoch)
 *   node → supervisor notes:  hello (data URL), ev (a container's event: its beats carry its metrics,
 *                             tap events the samples of an open tap), died, link-lost
 *   node → node call (on the data port, instead of a link): replica(app, epoch, actor, window, entry)
 *                             (a window-log entry held for its writer while no supervisor runs the app)
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
  /**
   * A partial restart: only the containers in `hosted` are (re)placed here, the app's other containers on
   * this node keep running (a full deploy terminates them first); `links` are those touching `hosted`.
   */
  readonly replace?: boolean;
  /**
   * A restart of every container: the app's containers on this node end, but their workers (module
   * loaded, code compiled) host the new ones — each its own container again where it can — rather than
   * being terminated; the node's spares and new workers cover the rest.
   */
  readonly recycle?: boolean;
};

/** A live producer's stream into a replaced consumer, re-linked to the consumer's node (a partial restart). */
export type RewireRequest = {
  readonly container: number;
  readonly channel: number;
  /** The consumer's node's data URL. */
  readonly toUrl: string;
};

export type NodeEvent =
  | { t: 'hello'; dataUrl: string; hosting?: HostedAnnounce[] }
  | { t: 'ev'; app: string; epoch: number; c: number; e: ContainerEvent }
  | { t: 'died'; app: string; epoch: number; c: number; reason: string }
  | {
      t: 'link-lost';
      app: string;
      /** The stream's epoch: its consumer's deploy epoch (a stream into a replaced consumer is stale). */
      epoch: number;
      remote: string;
      channel: number;
      /** The end the reporting node holds: the other end is the one blamed. */
      side: 'out' | 'in';
    };

/** Where one container a node hosts stands (its last progress), as the node reports it. */
export type ContainerState = {
  readonly c: number;
  /** The epoch it was deployed in (a partial restart leaves the containers it keeps at theirs). */
  readonly epoch: number;
  readonly actors: readonly string[];
  /** The newest window every actor of the container finished. */
  readonly done: number;
  readonly tuples: number;
  readonly finished: boolean;
  /** Its metrics as last reported (an adoption: the new supervisor's counters go on from them). */
  readonly metrics?: MetricsReport;
};

/** An application whose containers run on a node, as the node announces it when it (re)joins. */
export type HostedAnnounce = {
  readonly app: string;
  readonly epoch: number;
  readonly containers: readonly ContainerState[];
};
