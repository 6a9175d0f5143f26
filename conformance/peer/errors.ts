/** What a scripted peer's expectations and sends fail with: a stable code, a message for people. */
export type PeerErrorCode =
  /** Nothing matching arrived in time. */
  | 'ECP_PEER_TIMEOUT'
  /** The other side closed before anything matching arrived. */
  | 'ECP_PEER_CLOSED'
  /** The transport cannot do what the script asked (split a WebSocket message across writes). */
  | 'ECP_PEER_UNSUPPORTED';

export class PeerError extends Error {
  override readonly name = 'PeerError';
  constructor(
    readonly code: PeerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
