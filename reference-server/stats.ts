/**
 * Plain counters the server keeps as it runs. Incrementing a number field costs nothing on the hot
 * path; the Prometheus registry (metrics.ts) reads them only when scraped.
 */

export type HandshakeFailureReason =
  | 'invalid_password'
  | 'invalid_handshake'
  | 'invalid_username'
  | 'invalid_public_key'
  | 'username_taken'
  | 'handshake_timeout'
  | 'server_full'
  /** Over the per-address connection limit (an option, off by default). */
  | 'address_limit'
  /** A clustered room could not reach its Redis to reserve the name. */
  | 'room_unavailable';

/** Which rule found a reader slow: its output did not drain for the timeout, or passed the cap. */
export type SlowReaderRule = 'timeout' | 'cap';

/** Lines the server ignores (or, for `line_too_long`, closes on), each logged once per connection. */
export type BadInputKind =
  | 'invalid_json'
  | 'not_an_object'
  | 'unknown_type'
  | 'invalid_utf8'
  | 'line_too_long'
  | 'chat_before_handshake'
  | 'second_handshake'
  | 'invalid_chat'
  /** WebSocket frames that are not one ECP message: binary, several lines in one. */
  | 'invalid_framing'
  /** Another transport's opening on this port (a TLS handshake on a plain port, an HTTP request). */
  | 'wrong_transport';

/** What an operator can do through the admin API (`ecp server --admin-port`). */
export type AdminAction = 'status' | 'users' | 'announce' | 'kick' | 'rotate_key';

/** Why the admin API refused a request. */
export type AdminRejection =
  /** No token, or a wrong one. */
  | 'unauthorized'
  /** A request from a source that failed recently, refused before its token was even looked at. */
  | 'throttled'
  | 'bad_request'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_large';

export interface ServerStats {
  /** Connections accepted since start (refused ones included). */
  connectionsAccepted: number;
  /** Connections open now (refused ones still closing excluded). */
  connectionsOpen: number;
  /** Members of the room now. */
  users: number;
  /** Chat messages relayed (one per message received from a member). */
  messagesRelayed: number;
  /** Lines queued for a client: every relayed copy, echo and notice. */
  deliveries: number;
  bytesReceived: number;
  bytesSent: number;
  handshakeFailures: Record<HandshakeFailureReason, number>;
  badInput: Record<BadInputKind, number>;
  /** Members disconnected as slow readers, by the rule that fired. */
  slowReaderDisconnects: Record<SlowReaderRule, number>;
  /** Output the server holds for all connections together now (what the kernel has not taken), bytes. */
  outputQueuedBytes: number;
  /** Connections whose input waits for the room's output to drain, or for their next turn, now. */
  inputPaused: number;
  /** Times a connection's input was paused because the room's output was not drained. */
  inputPauses: number;
  /** Times the output queued for everyone reached the total budget. */
  outputBudgetReached: number;
  /** Messages that waited for their connection's rate limit. */
  rateLimited: number;
  /** Room keys replaced because a member left (an option, off by default). */
  keyRotations: number;
  /** Connections refused below ECP: a failed TLS handshake, a wrong WebSocket path, another transport's bytes. */
  transportRejections: number;
  /** Admin API actions done, by action. */
  adminActions: Record<AdminAction, number>;
  /** Admin API requests refused, by why. */
  adminRejections: Record<AdminRejection, number>;
}

export function createStats(): ServerStats {
  return {
    connectionsAccepted: 0,
    connectionsOpen: 0,
    users: 0,
    messagesRelayed: 0,
    deliveries: 0,
    bytesReceived: 0,
    bytesSent: 0,
    handshakeFailures: {
      invalid_password: 0,
      invalid_handshake: 0,
      invalid_username: 0,
      invalid_public_key: 0,
      username_taken: 0,
      handshake_timeout: 0,
      server_full: 0,
      address_limit: 0,
      room_unavailable: 0,
    },
    badInput: {
      invalid_json: 0,
      not_an_object: 0,
      unknown_type: 0,
      invalid_utf8: 0,
      line_too_long: 0,
      chat_before_handshake: 0,
      second_handshake: 0,
      invalid_chat: 0,
      invalid_framing: 0,
      wrong_transport: 0,
    },
    slowReaderDisconnects: { timeout: 0, cap: 0 },
    outputQueuedBytes: 0,
    inputPaused: 0,
    inputPauses: 0,
    outputBudgetReached: 0,
    rateLimited: 0,
    keyRotations: 0,
    transportRejections: 0,
    adminActions: { status: 0, users: 0, announce: 0, kick: 0, rotate_key: 0 },
    adminRejections: {
      unauthorized: 0,
      throttled: 0,
      bad_request: 0,
      not_found: 0,
      method_not_allowed: 0,
      too_large: 0,
    },
  };
}

/** A deep copy, safe to hand out. */
export function snapshotStats(stats: ServerStats): ServerStats {
  return {
    ...stats,
    handshakeFailures: { ...stats.handshakeFailures },
    badInput: { ...stats.badInput },
    slowReaderDisconnects: { ...stats.slowReaderDisconnects },
    adminActions: { ...stats.adminActions },
    adminRejections: { ...stats.adminRejections },
  };
}
