/**
 * A scripted wire-level peer: it listens on any transport (tcp, tls, ws, wss) and runs a script per
 * accepted connection, or connects out as a raw client. Tests use it in place of a real server or
 * client to stage exactly the behaviour they need; the client-conformance kit plays the server with it.
 */
import { DEFAULT_LIMITS } from '../../protocol/index.ts';
import {
  type ConnectOptions,
  connect,
  type Endpoint,
  formatEndpoint,
  type Listener,
  listen,
  parseEndpoint,
  type RejectedConnection,
} from '../../transport/index.ts';
import { PeerError } from './errors.ts';
import { PeerConnection, type PeerConnectionOptions } from './peer-connection.ts';

/**
 * What the peer does with each accepted connection; a script that throws drops its connection.
 * Scripts are async functions: they wait between steps with `await setTimeout(ms)` from
 * node:timers/promises, and for the other side with the connection's expectations.
 */
export type Script = (connection: PeerConnection) => unknown;

export interface PeerListenOptions extends PeerConnectionOptions {
  /** Where to listen. Default tcp://127.0.0.1:0 (a free port). */
  listen?: string | Endpoint;
  /** Certificate chain and key (PEM), for tls:// and wss://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Longest message accepted, bytes. Default the v1 line limit (1 MiB). */
  maxMessageBytes?: number;
  /** Bounds the TLS handshake and the WebSocket upgrade, ms. Default 10 s. */
  handshakeTimeoutMs?: number;
}

export interface ScriptedPeer {
  /** Where the peer listens, with the port actually bound. */
  readonly endpoint: Endpoint;
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far, in order. */
  readonly connections: readonly PeerConnection[];
  /** Scripts that failed, with the error each threw (their connections were dropped). */
  readonly scriptErrors: readonly unknown[];
  /** Connections refused below ECP (a failed TLS handshake, a wrong WebSocket path, ...). */
  readonly rejected: readonly RejectedConnection[];
  /** The connection accepted after the `index`-th (0: the first), waiting up to `timeoutMs` for it. */
  accepted(index: number, timeoutMs?: number): Promise<PeerConnection>;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

/** Listens and runs `script` on every connection. */
export async function startPeer(script: Script, options: PeerListenOptions = {}): Promise<ScriptedPeer> {
  const requested =
    typeof options.listen === 'string'
      ? parseEndpoint(options.listen)
      : (options.listen ?? parseEndpoint('tcp://127.0.0.1:0'));
  const connections: PeerConnection[] = [];
  const scriptErrors: unknown[] = [];
  const rejected: RejectedConnection[] = [];
  const arrivals = new Set<() => void>();
  const listener: Listener = await listen(
    requested,
    {
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_LIMITS.maxLineBytes,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_LIMITS.handshakeTimeoutMs,
      tls: options.tls,
      onRejected: (refused) => rejected.push(refused),
    },
    (connection) => {
      const peerConnection = new PeerConnection(connection, options);
      connections.push(peerConnection);
      for (const arrived of arrivals) arrived();
      Promise.resolve()
        .then(() => script(peerConnection))
        .catch((error: unknown) => {
          scriptErrors.push(error);
          peerConnection.destroy();
        });
    },
  );
  const endpoint: Endpoint = { ...requested, port: listener.port };
  return {
    endpoint,
    url: formatEndpoint(endpoint),
    port: listener.port,
    connections,
    scriptErrors,
    rejected,
    accepted: (index, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = connections[index];
          if (found === undefined) return;
          arrivals.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          arrivals.delete(check);
          reject(new PeerError('ECP_PEER_TIMEOUT', `no connection #${index + 1} within ${timeoutMs} ms`));
        }, timeoutMs);
        arrivals.add(check);
        check();
      }),
    close: async () => {
      for (const connection of connections) connection.destroy();
      await listener.close();
    },
  };
}

/** Connects out as a raw client (a test's stand-in for a client of the server under test). */
export async function connectPeer(
  endpoint: string | Endpoint,
  options: ConnectOptions & PeerConnectionOptions = {},
): Promise<PeerConnection> {
  return new PeerConnection(await connect(endpoint, options), options);
}
