/**
 * The transports, chosen by URL scheme: one file per transport, and nothing above this folder knows
 * which one it got. `connect` for clients, `listen` for servers.
 */
import type { FastReceiveConnectOptions } from './capabilities.ts';
import type { Connection, ConnectOptions, Listener, ListenOptions } from './connection.ts';
import { type Endpoint, parseEndpoint, type TransportName } from './endpoint.ts';
import { connectTcp, listenTcp } from './tcp.ts';

export {
  type ConnectionCapabilities,
  type FastReceive,
  type FastReceiveConnectOptions,
  fastReceive,
  type MessageSink,
  type RawAccess,
  rawAccess,
} from './capabilities.ts';
export type {
  CloseInfo,
  Connection,
  ConnectionEvents,
  ConnectOptions,
  EndReason,
  Listener,
  ListenOptions,
  RejectedConnection,
} from './connection.ts';
export {
  type Endpoint,
  formatEndpoint,
  formatHostPort,
  INSECURE_WARNING,
  isByteStream,
  parseEndpoint,
  TRANSPORTS,
  type TransportName,
  usesTls,
} from './endpoint.ts';
export { TransportError, type TransportErrorCode } from './errors.ts';
export { canConnect, findFreePort, type HostPort, waitUntilAccepting } from './ports.ts';
export { CLOSE_CODES, ECP_SUBPROTOCOL } from './websocket-mapping.ts';

const CONNECTORS: Record<
  TransportName,
  (endpoint: Endpoint, options: FastReceiveConnectOptions) => Promise<Connection>
> = {
  tcp: connectTcp,
  tls: connectTls,
  ws: connectWebSocket,
  wss: connectWebSocket,
};

// node:tls is loaded by the first TLS connection or listener, and WebSocket's modules (ws, and
// node:http with it) by the first WebSocket one: a TCP-only server or client does not keep them in
// memory.
async function connectTls(endpoint: Endpoint, options: FastReceiveConnectOptions): Promise<Connection> {
  return (await import('./tls.ts')).connectTls(endpoint, options);
}

async function listenTls(
  endpoint: Endpoint,
  options: ListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<Listener> {
  return (await import('./tls.ts')).listenTls(endpoint, options, onConnection);
}

/**
 * Whether a TLS handshake that offers only `version` succeeds at `endpoint`: how a test kit checks
 * that a server refuses versions older than TLS 1.2.
 */
export async function tlsVersionAccepted(
  endpoint: Endpoint,
  version: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3',
  timeoutMs?: number,
): Promise<boolean> {
  return (await import('./tls.ts')).tlsVersionAccepted(endpoint, version, timeoutMs);
}

async function connectWebSocket(endpoint: Endpoint, options: FastReceiveConnectOptions): Promise<Connection> {
  return (await import('./websocket-connect.ts')).connectWebSocket(endpoint, options);
}

async function listenWebSocket(
  endpoint: Endpoint,
  options: ListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<Listener> {
  return (await import('./websocket-listen.ts')).listenWebSocket(endpoint, options, onConnection);
}

const LISTENERS: Record<
  TransportName,
  (
    endpoint: Endpoint,
    options: ListenOptions,
    onConnection: (connection: Connection) => void,
  ) => Promise<Listener>
> = {
  tcp: listenTcp,
  tls: listenTls,
  ws: listenWebSocket,
  wss: listenWebSocket,
};

/**
 * Connects to a server; rejects with a TransportError that says what went wrong and what to try.
 * A fast receiver may pass FastReceiveConnectOptions (see capabilities.ts).
 */
export async function connect(
  endpoint: Endpoint | string,
  options: ConnectOptions | FastReceiveConnectOptions = {},
): Promise<Connection> {
  const resolved = typeof endpoint === 'string' ? parseEndpoint(endpoint) : endpoint;
  return CONNECTORS[resolved.transport](resolved, options);
}

/** Listens for connections; rejects with a TransportError ECP_LISTEN_FAILED. */
export async function listen(
  endpoint: Endpoint | string,
  options: ListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<Listener> {
  const resolved = typeof endpoint === 'string' ? parseEndpoint(endpoint) : endpoint;
  return LISTENERS[resolved.transport](resolved, options, onConnection);
}
