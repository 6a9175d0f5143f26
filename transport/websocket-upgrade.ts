/**
 * The upgrade rules of a WebSocket listener: which HTTP requests become ECP connections, and what
 * every other one is answered, so that a client that got something wrong is told what (a 404 naming
 * the right path, a 400 naming the subprotocol, a 426 for plain HTTP, an auth_error for a plain
 * ECP client) instead of waiting for a timeout.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Endpoint, TransportName } from './endpoint.ts';
import { httpError, looksLikeJson, looksLikeTlsHandshake, wrongTransportAnswer } from './sniff.ts';
import { ECP_SUBPROTOCOL, urlOf } from './websocket-mapping.ts';

/** Logs a refused connection: a stable reason token, and what was seen. */
export type RejectConnection = (socket: Socket, reason: string, detail?: string) => void;

/** ws's subprotocol choice: `ecp.v1` when offered; an upgrade offering none is served too. */
export function selectSubprotocol(offered: Set<string>): string | false {
  return offered.has(ECP_SUBPROTOCOL) ? ECP_SUBPROTOCOL : false;
}

/** A plain HTTP request (no upgrade) to the ECP endpoint: 426, saying how to connect. */
export function answerPlainRequest(endpoint: Endpoint, response: ServerResponse): void {
  response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' });
  response.end(`This is an ECP WebSocket endpoint: connect to ${urlOf(endpoint)} with a WebSocket client.\n`);
}

/**
 * Bytes that are not HTTP at all: another transport's opening (a TLS ClientHello, a plain ECP
 * handshake) gets that transport's answer; anything else a 400.
 */
export function answerClientError(
  error: Error & { code?: string; rawPacket?: Buffer },
  socket: Socket,
  transport: TransportName,
  reject: RejectConnection,
): void {
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
}

/**
 * Whether an upgrade request may become an ECP connection: the endpoint's path, and `ecp.v1` among
 * the subprotocols when any are offered. When not, answers it (404, 400), logs it and returns false.
 */
export function acceptUpgrade(
  request: IncomingMessage,
  socket: Socket,
  endpoint: Endpoint,
  reject: RejectConnection,
): boolean {
  const path = new URL(request.url ?? '/', 'http://host').pathname;
  if (path !== (endpoint.path || '/')) {
    reject(socket, 'wrong_path', path);
    socket.end(
      httpError(404, 'Not Found', `No ECP endpoint at ${path}; this server's is ${endpoint.path || '/'}`),
    );
    return false;
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
    return false;
  }
  return true;
}
