/**
 * The server side of ECP over WebSocket, ws:// and wss://: an HTTP(S) server whose one path
 * upgrades to WebSocket (websocket-upgrade.ts says which requests may), with keep-alive pings.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Connection, Listener, ListenOptions } from './connection.ts';
import { type Endpoint, formatEndpoint, formatHostPort } from './endpoint.ts';
import { TransportError } from './errors.ts';
import { closeServer, listenOn } from './listening.ts';
import { httpError, looksLikeTlsHandshake, wrongTransportAnswer } from './sniff.ts';
import { TLS_CIPHERS, TLS_MIN_VERSION } from './tls.ts';
import { WebSocketConnection } from './websocket-connection.ts';
import { KeepAlive } from './websocket-keep-alive.ts';
import {
  acceptUpgrade,
  answerClientError,
  answerPlainRequest,
  type RejectConnection,
  selectSubprotocol,
} from './websocket-upgrade.ts';

export async function listenWebSocket(
  endpoint: Endpoint,
  options: ListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<Listener> {
  const transport = endpoint.transport as 'ws' | 'wss';
  const reject: RejectConnection = (socket, reason, detail) =>
    options.onRejected?.({
      transport,
      peer: formatHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0),
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
  const server = createServer(endpoint, options, reject);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes + 2,
    perMessageDeflate: options.perMessageDeflate ?? false,
    clientTracking: false,
    handleProtocols: selectSubprotocol,
  });
  // A bad upgrade (missing or invalid key, unsupported version): answer it ourselves, and log it.
  wss.on('wsClientError', (error: Error & { code?: string }, socket: Socket) => {
    reject(socket, 'bad_upgrade', error.message);
    socket.end(httpError(400, 'Bad Request', error.message));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (options.onHttpRequest?.(request, response) !== true) answerPlainRequest(endpoint, response);
  });
  server.on('clientError', (error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) =>
    answerClientError(error, socket, transport, reject),
  );
  const keepAlive = new KeepAlive(options.pingIntervalMs);
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    if (!acceptUpgrade(request, socket, endpoint, reject)) return;
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new WebSocketConnection(ws, {
        transport,
        maxMessageBytes: options.maxMessageBytes,
        socket,
        deflate: options.perMessageDeflate ?? false,
        peer: formatHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0),
        remoteAddress: socket.remoteAddress ?? '',
      });
      keepAlive.watch(connection, ws);
      onConnection(connection);
    });
  });
  try {
    await listenOn(server, endpoint, (error) =>
      options.onRejected?.({
        transport,
        peer: '',
        reason: 'accept_failed',
        detail: error.code ?? error.message,
      }),
    );
  } catch (error) {
    keepAlive.stop();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    transport,
    host: endpoint.host,
    port,
    path: endpoint.path || '/',
    close: async () => {
      keepAlive.stop();
      // Established WebSockets are the server's to close; only the listening socket closes here.
      await closeServer(server);
    },
  };
}

/** HTTP for ws://, HTTPS for wss://; the upgrade request must arrive within the handshake timeout. */
function createServer(endpoint: Endpoint, options: ListenOptions, reject: RejectConnection): Server {
  const serverOptions = {
    headersTimeout: options.handshakeTimeoutMs,
    requestTimeout: options.handshakeTimeoutMs,
    // Node checks those timeouts this often.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, options.handshakeTimeoutMs)),
  };
  if (endpoint.transport !== 'wss') return createHttpServer(serverOptions);
  if (options.tls === undefined) {
    throw new TransportError(
      'ECP_LISTEN_FAILED',
      `cannot listen on ${formatEndpoint(endpoint)}: a TLS certificate and key are needed (--tls-cert, --tls-key)`,
    );
  }
  const server = createHttpsServer({
    ...serverOptions,
    cert: options.tls.cert,
    key: options.tls.key,
    minVersion: TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
    handshakeTimeout: options.handshakeTimeoutMs,
  });
  server.on('tlsClientError', (error: Error & { code?: string }, socket: Socket) =>
    reject(socket, 'tls_handshake_failed', error.code ?? error.message),
  );
  answerPlainClientsBeforeTls(server, options.handshakeTimeoutMs, reject);
  return server;
}

/**
 * A plain ECP client on a wss:// port would only see a failed TLS handshake it cannot read
 * (ECP-TR-04): look at each connection's first bytes before the HTTPS server's own TLS handshake
 * starts, answer a client of another transport in its terms, and hand a TLS hello on unchanged.
 */
function answerPlainClientsBeforeTls(
  server: Server,
  handshakeTimeoutMs: number,
  reject: RejectConnection,
): void {
  // The HTTPS server's one 'connection' listener starts its TLS handshake: it runs after the sniff.
  const startTls = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => {});
    // The wait for the first byte counts against the handshake timeout, as on a tls:// port.
    const timer = setTimeout(() => {
      reject(socket, 'tls_handshake_timeout');
      socket.destroy();
    }, handshakeTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (first: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      if (!looksLikeTlsHandshake(first)) {
        const answer = wrongTransportAnswer(first, 'wss');
        reject(socket, 'not_tls', answer?.description ?? 'bytes that are not a TLS handshake');
        if (answer?.reply === undefined) socket.destroy();
        else socket.end(answer.reply);
        return;
      }
      socket.unshift(first);
      for (const listener of startTls) listener.call(server, socket);
    });
  });
}
