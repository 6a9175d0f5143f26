/** The client side of ECP over WebSocket, ws:// and wss://: an upgrade offering `ecp.v1`. */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/index.ts';
import { connectAttempt } from './connect-attempt.ts';
import type { Connection, ConnectOptions } from './connection.ts';
import { type Endpoint, formatEndpoint, formatHostPort } from './endpoint.ts';
import { connectFailure, TransportError } from './errors.ts';
import { tlsClientOptions } from './tls.ts';
import { WebSocketConnection } from './websocket-connection.ts';
import { ECP_SUBPROTOCOL, urlOf } from './websocket-mapping.ts';

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
