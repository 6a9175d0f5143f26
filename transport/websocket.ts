/**
 * ECP over WebSocket (the `ws` package), ws:// and wss://: one ECP message per text frame, the
 * subprotocol `ecp.v1`, and a close code for every frame that is not one ECP message
 * (docs/protocol.md, Transports). The upgrade happens on one path; other paths get a 404.
 */
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import * as wsModule from 'ws';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { DEFAULT_MAX_LINE_BYTES, FramingError } from '../protocol/index.ts';
import { connectAttempt } from './connect-attempt.ts';
import type {
  CloseInfo,
  Connection,
  ConnectionEvents,
  ConnectOptions,
  EndReason,
  Listener,
  ListenOptions,
  MessageSink,
  RawAccess,
} from './connection.ts';
import { type Endpoint, formatEndpoint, formatHostPort } from './endpoint.ts';
import { connectFailure, TransportError } from './errors.ts';
import { InputHold } from './hold.ts';
import { closeServer, listenOn } from './listening.ts';
import { httpError, looksLikeJson, looksLikeTlsHandshake, wrongTransportAnswer } from './sniff.ts';
import { TLS_CIPHERS, TLS_MIN_VERSION, tlsClientOptions } from './tls.ts';

/** The subprotocol of ECP v1 over WebSocket. */
export const ECP_SUBPROTOCOL = 'ecp.v1';
export const DEFAULT_PING_INTERVAL_MS = 30_000;

/** The close codes this mapping uses (RFC 6455 section 7.4.1), documented in docs/protocol.md. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
} as const;

const END_CODES: Record<EndReason, number> = {
  normal: CLOSE_CODES.normal,
  going_away: CLOSE_CODES.goingAway,
  policy: CLOSE_CODES.policyViolation,
  too_big: CLOSE_CODES.messageTooBig,
};

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** ws's own framer (exported by ws as `Sender`, which its type definitions do not describe). */
const frameOf = (
  wsModule as unknown as {
    Sender: {
      frame(
        data: Buffer,
        options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
      ): Buffer[];
    };
  }
).Sender.frame;

/**
 * The server's fast path: a broadcast line becomes ONE complete text frame, made once and shared
 * by every recipient (server frames are not masked, so every recipient's frame is the same bytes),
 * and a batch of frames leaves in one write, as a byte stream's lines do.
 */
const sharedFrames = new WeakMap<Buffer, Buffer>();

function textFrame(line: Buffer): Buffer {
  let frame = sharedFrames.get(line);
  if (frame === undefined) {
    const parts = frameOf(stripNewline(line) as Buffer, {
      fin: true,
      opcode: 1,
      mask: false,
      readOnly: true,
      rsv1: false,
    });
    frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    sharedFrames.set(line, frame);
  }
  return frame;
}

/** Up to this many bytes of frames are copied into one Buffer; above it, cork + write each. */
const CONCAT_MAX_BYTES = 64 * 1024;

interface WebSocketConnectionOptions {
  transport: 'ws' | 'wss';
  maxMessageBytes: number;
  exactFraming?: boolean;
  /** The TCP socket under the WebSocket, when we hold it (server side): batches are written to it. */
  socket?: Socket;
  /** Whether permessage-deflate may be in use: frames must then go through ws. */
  deflate?: boolean;
  /** Client side: hold input until the caller listens (see InputHold). */
  holdInput?: boolean;
  peer: string;
  remoteAddress: string;
}

export class WebSocketConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly transport: 'ws' | 'wss';
  readonly peer: string;
  readonly remoteAddress: string;
  readonly raw: RawAccess;
  /** Set by the listener's keep-alive: whether a pong (or anything) came since the last ping. */
  alive = true;
  bytesReceived = 0;
  readonly #ws: WebSocket;
  readonly #socket: Socket | undefined;
  /** The socket batches are written to directly, when frames need no deflate (server side). */
  readonly #direct: Socket | undefined;
  readonly #maxMessageBytes: number;
  readonly #exact: boolean;
  #sink: MessageSink | undefined;
  #readDoneQueued = false;
  readonly #readDone = (): void => {
    this.#readDoneQueued = false;
    this.#sink?.readDone();
  };
  #error: (Error & { code?: string }) | undefined;
  #closed = false;
  readonly #hold: InputHold;

  constructor(ws: WebSocket, options: WebSocketConnectionOptions) {
    super();
    this.transport = options.transport;
    this.#ws = ws;
    this.#socket = options.socket;
    this.#direct = options.deflate ? undefined : options.socket;
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#exact = options.exactFraming ?? false;
    this.peer = options.peer;
    this.remoteAddress = options.remoteAddress;
    this.#hold = new InputHold(options.holdInput ?? false);
    if (this.#hold.holding) {
      (this as EventEmitter).on('newListener', (event: string) => {
        if (event === 'message' || event === 'close') this.#hold.release();
      });
    }
    this.raw = {
      kind: 'frames',
      send: (data, { binary }) => {
        if (this.writable) ws.send(data, { binary });
      },
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.#hold.holding) this.#hold.run(() => this.#onFrame(data as Buffer, isBinary));
      else this.#onFrame(data as Buffer, isBinary);
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (error: Error & { code?: string }) => this.#hold.run(() => this.#onError(error)));
    ws.on('close', (code: number, reason: Buffer) =>
      this.#hold.run(() => this.#onClose(code, reason.toString('utf8'))),
    );
    this.#socket?.on('drain', () => this.emit('drain'));
  }

  get subprotocol(): string {
    return this.#ws.protocol;
  }

  get pendingOutputBytes(): number {
    return this.#ws.bufferedAmount;
  }

  get writable(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  get paused(): boolean {
    return this.#ws.isPaused;
  }

  send(line: Buffer | string): void {
    if (!this.writable) return;
    // The wire form of a message is a line; a frame carries it without its line feed.
    this.#ws.send(stripNewline(line), { binary: false });
  }

  sendBatch(lines: readonly Buffer[] | readonly string[], bytes: number): void {
    if (!this.writable || lines.length === 0) return;
    const socket = this.#direct;
    if (socket !== undefined && typeof lines[0] !== 'string') {
      // Whole frames, written between ws's own (which are whole too): the stream stays well formed.
      const frames = (lines as readonly Buffer[]).map(textFrame);
      if (frames.length === 1) socket.write(frames[0]!);
      else if (bytes <= CONCAT_MAX_BYTES) socket.write(Buffer.concat(frames));
      else {
        socket.cork();
        for (const frame of frames) socket.write(frame);
        socket.uncork();
      }
      return;
    }
    // Corked, the frames of one batch leave in one write.
    this.#socket?.cork();
    for (let i = 0; i < lines.length; i++) this.#ws.send(stripNewline(lines[i]!), { binary: false });
    this.#socket?.uncork();
  }

  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  receiveInto(sink: MessageSink): void {
    this.#hold.release();
    this.#sink = sink;
  }

  end(reason: EndReason = 'normal'): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.close(END_CODES[reason]);
    }
  }

  destroy(): void {
    this.#ws.terminate();
  }

  /** Keep-alive: a peer that did not answer the previous ping is gone; otherwise ping again. */
  ping(): void {
    if (!this.alive) {
      this.#error ??= Object.assign(new Error('no pong within the ping interval'), {
        code: 'ECP_PING_TIMEOUT',
      });
      this.#ws.terminate();
      return;
    }
    this.alive = false;
    if (this.writable) this.#ws.ping();
  }

  #onFrame(data: Buffer, isBinary: boolean): void {
    this.alive = true;
    if (this.#closed) return;
    this.bytesReceived += data.length;
    if (isBinary) {
      this.#violation(
        new FramingError('ECP_BINARY_FRAME', 'a binary frame: ECP messages travel in text frames'),
        CLOSE_CODES.unsupportedData,
        'ECP messages are text frames',
      );
      return;
    }
    let end = data.length;
    if (end > 0 && data[end - 1] === NEWLINE) {
      end -= 1;
      if (end > 0 && data[end - 1] === CARRIAGE_RETURN) end -= 1;
    }
    if (end > this.#maxMessageBytes) {
      this.#violation(
        new FramingError('ECP_LINE_TOO_LONG', `message exceeds ${this.#maxMessageBytes} bytes`),
        CLOSE_CODES.messageTooBig,
        `message over ${this.#maxMessageBytes} bytes`,
      );
      return;
    }
    const inner = data.indexOf(NEWLINE);
    if (inner !== -1 && inner < end) {
      this.#violation(
        new FramingError('ECP_SEVERAL_MESSAGES', 'a text frame holding more than one line'),
        CLOSE_CODES.invalidPayload,
        'one ECP message per frame',
      );
      return;
    }
    if (end === 0 && !this.#exact) return;
    if (this.#sink !== undefined) {
      this.#sink.message(data, 0, end);
      // ws hands over every frame of one network read in one go: say the read is done once, after
      // them all, as a byte stream does (a closed-loop sender then refills per read, not per message).
      if (!this.#readDoneQueued) {
        this.#readDoneQueued = true;
        queueMicrotask(this.#readDone);
      }
      return;
    }
    // ws has checked that a text frame is UTF-8.
    this.emit('message', data.toString('utf8', 0, end));
  }

  #violation(error: FramingError, code: number, reason: string): void {
    this.emit('framingError', error, true);
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code, reason);
  }

  #onError(error: Error & { code?: string }): void {
    this.#error ??= error;
    // ws has already closed with the matching code (1009, 1007, 1002); say what it was.
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.emit(
        'framingError',
        new FramingError('ECP_LINE_TOO_LONG', `message exceeds ${this.#maxMessageBytes} bytes`),
        true,
      );
    } else if (error.code === 'WS_ERR_INVALID_UTF8') {
      this.emit(
        'framingError',
        new FramingError('ECP_INVALID_UTF8', 'a text frame that is not valid UTF-8'),
        true,
      );
    }
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const info: CloseInfo = { error: this.#error, closeCode: code, closeReason: reason || undefined };
    this.emit('close', info);
  }
}

function stripNewline(line: Buffer | string): Buffer | string {
  if (typeof line === 'string') return line.endsWith('\n') ? line.slice(0, -1) : line;
  return line.length > 0 && line[line.length - 1] === NEWLINE ? line.subarray(0, line.length - 1) : line;
}

function urlOf(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.transport}://${host}:${endpoint.port}${endpoint.path || '/'}`;
}

export function connectWebSocket(endpoint: Endpoint, options: ConnectOptions = {}): Promise<Connection> {
  const where = formatEndpoint(endpoint);
  const transport = endpoint.transport as 'ws' | 'wss';
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_LINE_BYTES;
  return connectAttempt<Connection>(where, options, (attempt) => {
    const ws = new WebSocket(urlOf(endpoint), options.subprotocols ?? [ECP_SUBPROTOCOL], {
      // A trailing line feed (or CR LF) may follow a message of the limit.
      maxPayload: maxMessageBytes + 2,
      perMessageDeflate: false,
      ...(transport === 'wss' ? tlsClientOptions(endpoint, options) : {}),
    });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.removeAllListeners('unexpected-response');
      attempt.succeed(
        new WebSocketConnection(ws, {
          transport,
          maxMessageBytes,
          exactFraming: options.exactFraming,
          holdInput: true,
          peer: formatHostPort(endpoint.host, endpoint.port),
          remoteAddress: endpoint.host,
        }),
      );
    });
    ws.once('unexpected-response', (request, response: IncomingMessage) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => {
        if (body.length < 1024) body += text;
      });
      const fail = () => {
        request.destroy();
        const said = body.trim() === '' ? '' : `: ${body.trim().slice(0, 300)}`;
        attempt.fail(
          new TransportError(
            'ECP_UPGRADE_FAILED',
            `WebSocket upgrade to ${where} refused: HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trimEnd() +
              said,
          ),
        );
      };
      response.once('end', fail);
      response.once('error', fail);
    });
    ws.once('error', (error: Error & { code?: string }) => {
      const failure =
        /subprotocol|Sec-WebSocket|Unexpected server response|Invalid/i.test(error.message) &&
        !error.code?.startsWith('E')
          ? new TransportError(
              'ECP_UPGRADE_FAILED',
              `WebSocket upgrade to ${where} failed: ${error.message}`,
              { cause: error },
            )
          : connectFailure(where, error);
      attempt.fail(failure);
    });
    return () => ws.terminate();
  });
}

export async function listenWebSocket(
  endpoint: Endpoint,
  options: ListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<Listener> {
  const transport = endpoint.transport as 'ws' | 'wss';
  const reject = (socket: Socket, reason: string, detail?: string) =>
    options.onRejected?.({
      transport,
      peer: formatHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0),
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
  const serverOptions = {
    // The upgrade request must arrive within the handshake timeout; Node checks it this often.
    headersTimeout: options.handshakeTimeoutMs,
    requestTimeout: options.handshakeTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, options.handshakeTimeoutMs)),
  };
  let server: Server;
  if (transport === 'wss') {
    if (options.tls === undefined) {
      throw new TransportError(
        'ECP_LISTEN_FAILED',
        `cannot listen on ${formatEndpoint(endpoint)}: a TLS certificate and key are needed (--tls-cert, --tls-key)`,
      );
    }
    server = createHttpsServer({
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
  } else {
    server = createHttpServer(serverOptions);
  }
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes + 2,
    perMessageDeflate: options.perMessageDeflate ?? false,
    clientTracking: false,
    handleProtocols: (offered) => (offered.has(ECP_SUBPROTOCOL) ? ECP_SUBPROTOCOL : false),
  });
  // A bad upgrade (missing or invalid key, unsupported version): answer it ourselves, and log it.
  wss.on('wsClientError', (error: Error & { code?: string }, socket: Socket) => {
    reject(socket, 'bad_upgrade', error.message);
    socket.end(httpError(400, 'Bad Request', error.message));
  });
  const connections = new Set<WebSocketConnection>();
  server.on('request', (_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
    response.end(
      `This is an ECP WebSocket endpoint: connect to ${urlOf(endpoint)} with a WebSocket client.\n`,
    );
  });
  server.on('clientError', (error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => {
    const first = error.rawPacket ?? Buffer.alloc(0);
    if (looksLikeTlsHandshake(first) || looksLikeJson(first)) {
      const answer = wrongTransportAnswer(first, transport);
      reject(socket, 'wrong_transport', answer?.description);
      if (answer?.reply !== undefined && socket.writable) socket.end(answer.reply);
      else socket.destroy();
      return;
    }
    reject(
      socket,
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'upgrade_timeout' : 'bad_http',
      error.code ?? error.message,
    );
    if (socket.writable) socket.end(httpError(400, 'Bad Request', 'not a WebSocket upgrade'));
    else socket.destroy();
  });
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    const path = new URL(request.url ?? '/', 'http://host').pathname;
    if (path !== (endpoint.path || '/')) {
      reject(socket, 'wrong_path', path);
      socket.end(
        httpError(404, 'Not Found', `No ECP endpoint at ${path}; this server's is ${endpoint.path || '/'}`),
      );
      return;
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    if (offered.length > 0 && !offered.includes(ECP_SUBPROTOCOL)) {
      reject(socket, 'unsupported_subprotocol', offered.join(', '));
      socket.end(
        httpError(
          400,
          'Bad Request',
          `Unsupported subprotocol ${offered.join(', ')}: this endpoint speaks ${ECP_SUBPROTOCOL}`,
        ),
      );
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new WebSocketConnection(ws, {
        transport,
        maxMessageBytes: options.maxMessageBytes,
        socket,
        deflate: options.perMessageDeflate ?? false,
        peer: formatHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0),
        remoteAddress: socket.remoteAddress ?? '',
      });
      connections.add(connection);
      connection.once('close', () => connections.delete(connection));
      onConnection(connection);
    });
  });
  await listenOn(server, endpoint, (error) =>
    options.onRejected?.({
      transport,
      peer: '',
      reason: 'accept_failed',
      detail: error.code ?? error.message,
    }),
  );
  // Keep-alive: ping every connection; one that did not answer the previous ping is closed.
  const pinger = setInterval(() => {
    for (const connection of connections) connection.ping();
  }, options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS);
  pinger.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    transport,
    host: endpoint.host,
    port,
    path: endpoint.path || '/',
    close: async () => {
      clearInterval(pinger);
      // Established WebSockets are the server's to close; only the listening socket closes here.
      await closeServer(server);
    },
  };
}
