/**
 * Recognising a client that speaks another transport on a port, from its first bytes, so it gets a
 * precise answer at once instead of a handshake timeout: a TLS ClientHello on a plain port, an
 * HTTP (WebSocket) request on a byte-stream port, a plain ECP line on a TLS port.
 */
import type { TransportName } from './endpoint.ts';

/** The first bytes of a TLS connection: a handshake record (22) of TLS 1.x (3.x). */
export function looksLikeTlsHandshake(chunk: Buffer): boolean {
  return chunk.length >= 2 && chunk[0] === 0x16 && chunk[1] === 0x03;
}

const HTTP_REQUEST = /^(?:GET|POST|HEAD|PUT|OPTIONS|DELETE|PATCH|CONNECT) \S+ HTTP\/1\.[01]\r?\n/;

/** The first bytes of an HTTP/1 request line (a WebSocket upgrade starts with one). */
export function looksLikeHttpRequest(chunk: Buffer): boolean {
  return HTTP_REQUEST.test(chunk.toString('latin1', 0, Math.min(chunk.length, 2048)));
}

/** The first bytes of an ECP client: a JSON object (a handshake), possibly after whitespace. */
export function looksLikeJson(chunk: Buffer): boolean {
  for (const byte of chunk) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === 0x7b;
  }
  return false;
}

export interface WrongTransportAnswer {
  /** For logs: what arrived. */
  description: string;
  /** What to write back before closing, in the client's own protocol; undefined: just close. */
  reply: string | undefined;
}

/**
 * What to answer a client whose first bytes belong to another transport than `transport` (this
 * port's), or undefined when they may well be this transport's.
 */
export function wrongTransportAnswer(
  chunk: Buffer,
  transport: TransportName,
): WrongTransportAnswer | undefined {
  const here = `${transport}://`;
  if ((transport === 'tcp' || transport === 'ws') && looksLikeTlsHandshake(chunk)) {
    // A TLS client cannot read a plain answer; closing at once makes its handshake fail at once.
    return { description: `a TLS handshake on a plain ${here} port`, reply: undefined };
  }
  if ((transport === 'tcp' || transport === 'tls') && looksLikeHttpRequest(chunk)) {
    return {
      description: `an HTTP request (a WebSocket client?) on an ECP ${here} port`,
      reply: httpError(400, 'Bad Request', `This port speaks ECP over ${here}, not WebSocket or HTTP.`),
    };
  }
  if ((transport === 'tls' || transport === 'ws' || transport === 'wss') && looksLikeJson(chunk)) {
    // A plain ECP client reads one JSON line: an auth_error tells it, and its user, what is wrong.
    const message = `This port speaks ECP over ${here}; connect with ${here}`;
    return {
      description: `a plain ECP client on a ${here} port`,
      reply: `${JSON.stringify({ type: 'auth_error', message })}\n`,
    };
  }
  return undefined;
}

/** A complete HTTP/1.1 error response with a plain-text body. */
export function httpError(status: number, statusText: string, body: string): string {
  const text = `${body}\n`;
  return (
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
  );
}
