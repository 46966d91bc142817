import { SluiceError } from '../core/errors.ts';

/**
 * Why a cluster connection was refused or closed. The code is stable (logs and tests match on it); the
 * close code is what the WebSocket close frame carries (4000–4999 are the application's range), so the
 * peer learns the reason too, but never anything about the secret.
 */
export const REFUSALS = {
  SLUICE_CLUSTER_AUTH_FAILED: 4001,
  SLUICE_CLUSTER_REPLAY: 4002,
  SLUICE_CLUSTER_STALE_TIMESTAMP: 4003,
  SLUICE_CLUSTER_VERSION: 4004,
  SLUICE_CLUSTER_BAD_HANDSHAKE: 4005,
  SLUICE_CLUSTER_HANDSHAKE_TIMEOUT: 4006,
  SLUICE_CLUSTER_FRAME_TOO_LARGE: 4007,
  SLUICE_CLUSTER_DECODE_LIMIT: 4008,
  SLUICE_CLUSTER_BAD_FRAME: 4009,
  SLUICE_CLUSTER_PEER_DEAD: 4010,
  SLUICE_CLUSTER_SERVER_AUTH_FAILED: 4011,
  SLUICE_CLUSTER_BUILD_MISMATCH: 4012,
  SLUICE_CLUSTER_DUPLICATE_NODE: 4013,
  SLUICE_CLUSTER_NOT_JOINED: 4014,
  SLUICE_CLUSTER_BAD_PART: 4015,
} as const;

export type RefusalCode = keyof typeof REFUSALS;

/** A peer, a frame or a handshake the protocol refuses; `code` says which rule it broke. */
export class ClusterProtocolError extends SluiceError {
  declare readonly code: RefusalCode;
  constructor(code: RefusalCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  get closeCode(): number {
    return REFUSALS[this.code];
  }
}

/** Nothing answered at a cluster URL (refused, unknown host, unreachable): the socket's own error as cause. */
export class ClusterUnreachableError extends SluiceError {
  constructor(
    readonly url: string,
    cause: Error & { code?: string },
  ) {
    super('SLUICE_CLUSTER_UNREACHABLE', `cannot connect to ${url} (${cause.code ?? cause.message})`, {
      cause,
    });
  }
}

/** The cluster would listen off loopback with no shared secret. */
export class ClusterNoSecretError extends SluiceError {
  constructor(readonly host: string) {
    super(
      'SLUICE_CLUSTER_NO_SECRET',
      `Refusing to listen on ${host} without a shared secret: anyone who can reach it could join the ` +
        'cluster. Set SLUICE_SECRET or pass --secret-file FILE (the same secret on every node), or listen ' +
        'on a loopback address (127.0.0.1, ::1, localhost).',
    );
  }
}

/** The secret given is unusable (too short, unreadable file). */
export class ClusterSecretError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLUICE_CLUSTER_SECRET', message, options);
  }
}
