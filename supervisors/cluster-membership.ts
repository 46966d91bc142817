import { ClusterProtocolError } from '../src/cluster/errors.ts';
import type { ClusterFrame } from '../src/cluster/frames.ts';
import type { PeerConnection } from '../src/cluster/peer-connection.ts';

/**
 * Which nodes are in the cluster, as the supervisor sees it. An authenticated connection (ClusterServer's
 * onPeer) becomes a node once its first frame, a `join`, names a node id not already live and the same
 * application build as the supervisor's: application code is never sent, every node loads APP from its
 * own disk, so a node on another build would compute something else and is refused. A node leaves when
 * its connection closes, for whatever reason (a node declared dead after 3 missed heartbeats among them).
 *
 *   connected --join (same build, new id)--> member --connection closed--> left
 *       |
 *       +--another frame first / other build / id live / no join in time--> refused (connection closed)
 */
export type NodeInfo = { nodeId: string; containers: number; peer: PeerConnection };

export type MembershipEvent =
  | { event: 'node-joined'; nodeId: string; containers: number }
  | { event: 'node-left'; nodeId: string; closeCode: number }
  | { event: 'node-refused'; remote: string; code: string; reason: string };

export type MembershipOptions = {
  /** The hash of the supervisor's application build; nodes must report the same. */
  build: string;
  /** How long an authenticated connection may take to send its join. Default 5 s. */
  joinTimeoutMs?: number;
  onEvent?: (event: MembershipEvent) => void;
  /** Frames from member nodes after their join. */
  onFrame?: (nodeId: string, frame: ClusterFrame) => void;
};

export class ClusterMembership {
  readonly #nodes = new Map<string, NodeInfo>();
  readonly #o: MembershipOptions;

  constructor(options: MembershipOptions) {
    this.#o = options;
  }

  get nodes(): ReadonlyMap<string, NodeInfo> {
    return this.#nodes;
  }

  /** Pass as ClusterServer's onPeer. */
  admit(peer: PeerConnection): void {
    const refuse = (code: ClusterProtocolError['code'], reason: string) => {
      clearTimeout(timer);
      this.#o.onEvent?.({ event: 'node-refused', remote: peer.remote, code, reason });
      peer.refuse(new ClusterProtocolError(code, reason));
    };
    const timer = setTimeout(
      () => refuse('SLUICE_CLUSTER_NOT_JOINED', 'no join frame in time after the handshake'),
      this.#o.joinTimeoutMs ?? 5000,
    );
    void peer.closed.then(() => clearTimeout(timer));
    peer.onFrame((frame) => {
      if (frame.t !== 'join') return refuse('SLUICE_CLUSTER_NOT_JOINED', `a ${frame.t} frame before join`);
      clearTimeout(timer);
      this.join(peer, frame);
    });
  }

  /**
   * Takes `peer`, whose first frame was `frame`, as a node (or refuses it): for a server where other
   * kinds of peers (launchers) connect too, and the first frame says which.
   */
  join(peer: PeerConnection, frame: Extract<ClusterFrame, { t: 'join' }>): NodeInfo | undefined {
    const refuse = (code: ClusterProtocolError['code'], reason: string) => {
      this.#o.onEvent?.({ event: 'node-refused', remote: peer.remote, code, reason });
      peer.refuse(new ClusterProtocolError(code, reason));
      return undefined;
    };
    if (frame.build !== this.#o.build) {
      return refuse(
        'SLUICE_CLUSTER_BUILD_MISMATCH',
        `node ${frame.nodeId} runs build ${frame.build}, the supervisor ${this.#o.build}: deploy the same build`,
      );
    }
    if (this.#nodes.has(frame.nodeId)) {
      return refuse('SLUICE_CLUSTER_DUPLICATE_NODE', `node id ${frame.nodeId} is already in the cluster`);
    }
    const node: NodeInfo = { nodeId: frame.nodeId, containers: frame.containers, peer };
    this.#nodes.set(frame.nodeId, node);
    this.#o.onEvent?.({ event: 'node-joined', nodeId: frame.nodeId, containers: frame.containers });
    peer.onFrame((f) => this.#o.onFrame?.(node.nodeId, f));
    void peer.closed.then((closeCode) => {
      this.#nodes.delete(node.nodeId);
      this.#o.onEvent?.({ event: 'node-left', nodeId: node.nodeId, closeCode });
    });
    return node;
  }
}
