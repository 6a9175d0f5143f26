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

// node:tls is loaded by the first TLS connection or listener, and WebSocket's modules (ws, and
// node:http with it) by the first WebSocket one: a TCP-only server or client does not keep them in
// memory.
/** A function of a module that is imported on the function's first call. */
function importedOnFirstCall<A extends unknown[], R>(
  load: () => Promise<(...args: A) => Promise<R>>,
): (...args: A) => Promise<R> {
  return async (...args) => (await load())(...args);
}

const connectTls = importedOnFirstCall(async () => (await import('./tls.ts')).connectTls);
const listenTls = importedOnFirstCall(async () => (await import('./tls.ts')).listenTls);
const connectWebSocket = importedOnFirstCall(
  async () => (await import('./websocket-connect.ts')).connectWebSocket,
);
const listenWebSocket = importedOnFirstCall(
  async () => (await import('./websocket-listen.ts')).listenWebSocket,
);

/**
 * Whether a TLS handshake that offers only `version` succeeds at `endpoint`: how a test kit checks
 * that a server refuses versions older than TLS 1.2.
 */
export const tlsVersionAccepted = importedOnFirstCall(
  async () => (await import('./tls.ts')).tlsVersionAccepted,
);

const CONNECTORS: Record<
  TransportName,
  (endpoint: Endpoint, options: FastReceiveConnectOptions) => Promise<Connection>
> = {
  tcp: connectTcp,
  tls: connectTls,
  ws: connectWebSocket,
  wss: connectWebSocket,
};

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
