import { ClusterProtocolError } from './errors.ts';

/**
 * ws reports a protocol violation below our frames (an over-maxPayload message, a bad opcode, a masked
 * server frame...) as an 'error' on the socket, with a `code`, and closes it. Our refusal for it.
 */
export function socketErrorRefusal(err: Error & { code?: string }): ClusterProtocolError {
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return new ClusterProtocolError(
      'SLUICE_CLUSTER_FRAME_TOO_LARGE',
      `message over the size limit: ${err.message}`,
      {
        cause: err,
      },
    );
  }
  return new ClusterProtocolError(
    'SLUICE_CLUSTER_BAD_FRAME',
    `WebSocket error ${err.code ?? ''}: ${err.message}`,
    {
      cause: err,
    },
  );
}
