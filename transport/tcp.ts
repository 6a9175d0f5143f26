/** ECP over plain TCP: lines on a socket. */
import { type AddressInfo, connect, createServer, type Socket, type SocketConstructorOpts } from 'node:net';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/index.ts';
import { ByteStreamConnection } from './byte-stream.ts';
import type { FastReceiveConnectOptions } from './capabilities.ts';
import { connectAttempt } from './connect-attempt.ts';
import type { Connection, Listener, ListenOptions } from './connection.ts';
import { type Endpoint, formatEndpoint } from './endpoint.ts';
import { connectFailure } from './errors.ts';
import { closeServer, listenOn } from './listening.ts';

export function connectTcp(endpoint: Endpoint, options: FastReceiveConnectOptions = {}): Promise<Connection> {
  const where = formatEndpoint(endpoint);
  return connectAttempt<Connection>(where, options, (attempt) => {
    let connection: ByteStreamConnection | undefined;
    const readBuffer = options.readBuffer;
    // net's `onread` reads into one buffer the caller reuses (the fast receive path).
    const onread =
      readBuffer === undefined
        ? undefined
        : {
            buffer: readBuffer,
            callback: (bytes: number, buffer: Uint8Array) => {
              connection?.receive((buffer as Buffer).subarray(0, bytes));
              return true;
            },
          };
    const socket: Socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      onread,
    } as SocketConstructorOpts & {
      host: string;
      port: number;
    });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      connection = new ByteStreamConnection(
        socket,
        {
          transport: 'tcp',
          maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_LINE_BYTES,
          exactFraming: options.exactFraming,
          holdInput: true,
        },
        onread !== undefined,
      );
      attempt.succeed(connection);
    });
    socket.once('error', (error) => attempt.fail(connectFailure(where, error)));
    return () => socket.destroy();
  });
}

export async function listenTcp(
  endpoint: Endpoint,
  options: ListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<Listener> {
  // allowHalfOpen: a client's FIN must not end our side before its queued output is flushed.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    onConnection(
      new ByteStreamConnection(socket, {
        transport: 'tcp',
        maxMessageBytes: options.maxMessageBytes,
        detectWrongTransport: true,
      }),
    );
  });
  await listenOn(server, endpoint, (error) =>
    options.onRejected?.({
      transport: 'tcp',
      peer: '',
      reason: 'accept_failed',
      detail: error.code ?? error.message,
    }),
  );
  const port = (server.address() as AddressInfo).port;
  return { transport: 'tcp', host: endpoint.host, port, path: '', close: () => closeServer(server) };
}
