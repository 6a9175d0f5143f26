/**
 * The one connection abstraction: a connection carries ECP *messages*; framing is the transport's
 * job (lines on byte streams, one text frame per message on WebSocket). Everything above this
 * folder (server sessions and outboxes, the reference client, the conformance kit's wire client,
 * the bench's load clients) talks to a Connection and never learns which transport it got. What
 * only the kit or the bench needs (raw access, a fast receive path) is a capability a transport may
 * offer beside it (capabilities.ts).
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FramingError } from '../protocol/index.ts';
import type { TransportName } from './endpoint.ts';

/**
 * How a connection is being ended, for transports that can say so (a WebSocket close code);
 * byte streams only close. Semantic names, so callers never pick WebSocket codes.
 */
export type EndReason =
  /** A normal close (WebSocket 1000). */
  | 'normal'
  /** The server is shutting down (1001). */
  | 'going_away'
  /** Refused for breaking the rules: an auth_error, a timeout (1008). */
  | 'policy'
  /** A message over the size limit (1009). */
  | 'too_big';

export interface CloseInfo {
  /** Set when the connection ended with an error (a reset, EPIPE, a TLS error, ...). */
  error: (Error & { code?: string }) | undefined;
  /** The WebSocket close code the peer sent (or 1006 when none came); undefined on byte streams. */
  closeCode: number | undefined;
  /** The WebSocket close reason, if any. */
  closeReason: string | undefined;
}

export interface ConnectionEvents {
  /** One message, without its framing (no line feed), decoded as UTF-8. */
  message: [text: string];
  /**
   * Something arrived that is not a message: an over-long line, bytes that are not UTF-8, a binary
   * frame, another transport's handshake. `closing` is true when the transport ends the
   * connection because of it (WebSocket close codes, a TLS handshake on a plain port, ...).
   */
  framingError: [error: FramingError, closing: boolean];
  /** The peer will send nothing more; what is still queued for it can go out (TCP half-close). */
  end: [];
  /** Fully closed, for whatever reason; always the last event, emitted once. */
  close: [info: CloseInfo];
  /** Pending output fell to zero after having been above it. */
  drain: [];
}

export interface Connection extends EventEmitter<ConnectionEvents> {
  readonly transport: TransportName;
  /** The peer's address and port, e.g. `127.0.0.1:52114` (`[::1]:52114`). */
  readonly peer: string;
  /** The peer's IP address, for per-address accounting. */
  readonly remoteAddress: string;
  /** The WebSocket subprotocol agreed on ('' when none); undefined on byte streams. */
  readonly subprotocol: string | undefined;
  /** Bytes received so far, framing included. */
  readonly bytesReceived: number;
  /** Output handed to the connection that the operating system has not taken yet, in bytes. */
  readonly pendingOutputBytes: number;
  /** False once the connection is closing or closed: sends are then dropped. */
  readonly writable: boolean;
  /** Whether input is paused. */
  readonly paused: boolean;

  /**
   * Sends one encoded message: a line that ends with its line feed, the byte-stream wire form
   * (WebSocket sends it as one text frame, without the line feed). The buffer may be shared by
   * many connections; it is never modified.
   */
  send(line: Buffer | string): void;
  /**
   * Sends several encoded lines in one go (one write on a byte stream, corked frames on
   * WebSocket); `bytes` is their total size (their length, for ASCII strings).
   */
  sendBatch(lines: readonly Buffer[] | readonly string[], bytes: number): void;
  /** Stops reading: input stays in the operating system's buffers and the peer is slowed down. */
  pause(): void;
  resume(): void;
  /** Graceful: what is queued goes out, then the connection closes. */
  end(reason?: EndReason): void;
  /** Abrupt: closes now, dropping whatever is queued. */
  destroy(): void;
}

/** What every transport's connect() takes. */
export interface ConnectOptions {
  /** Gives up on connecting (TLS handshake and WebSocket upgrade included) after this long. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Longest message accepted from the server, bytes. Default 1 MiB (the v1 line limit). */
  maxMessageBytes?: number;
  /** Report blank lines and a last line without its line feed, as a test kit needs. Default off. */
  exactFraming?: boolean;
  /** TLS: trust this CA (PEM) instead of the system's. */
  ca?: string | Buffer;
  /** TLS: do not verify the server's certificate. */
  insecure?: boolean;
  /** WebSocket: the subprotocols to offer. Default ['ecp.v1']; [] offers none (as browsers may). */
  subprotocols?: string[];
}

/** A transport problem on the server side, worth a log line: the connection never became a Connection. */
export interface RejectedConnection {
  transport: TransportName;
  peer: string;
  /** A stable token for logs and metrics: tls_handshake_failed, plaintext_on_tls, wrong_path, ... */
  reason: string;
  detail?: string;
}

/** What every transport's listen() takes. */
export interface ListenOptions {
  /** Longest message accepted from a client, bytes (the line limit). */
  maxMessageBytes: number;
  /** Bounds the TLS handshake and the WebSocket upgrade of a new connection, ms. */
  handshakeTimeoutMs: number;
  /** TLS certificate chain and private key (PEM), for tls:// and wss://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** WebSocket: ping idle connections this often, and close those that did not answer the last ping. Default 30 s. */
  pingIntervalMs?: number;
  /** WebSocket: offer permessage-deflate. Default off (it costs CPU and memory per connection). */
  perMessageDeflate?: boolean;
  /** Told about connections refused below ECP (a TLS failure, a wrong path, another transport's bytes). */
  onRejected?: (rejected: RejectedConnection) => void;
  /**
   * WebSocket: offered every plain HTTP request (one that is not an upgrade) first; returns true
   * when it answered it. Unanswered requests get the listener's own answer (426, how to connect).
   * The server serves its pages here; the transport knows nothing of them.
   */
  onHttpRequest?: (request: IncomingMessage, response: ServerResponse) => boolean;
}

export interface Listener {
  readonly transport: TransportName;
  readonly host: string;
  /** The port actually bound (the chosen one when asked for 0). */
  readonly port: number;
  /** The WebSocket path ('' for byte streams). */
  readonly path: string;
  /** Stops accepting; resolves once the listening socket is closed (open connections are not touched). */
  close(): Promise<void>;
}
