/**
 * The TCP edge: opens a socket and nothing else. Framing, parsing and crypto live elsewhere, so
 * another transport (TLS, a test double) only has to provide a `Duplex` that carries bytes.
 */
import { connect, type Socket } from 'node:net';
import { ClientError } from './errors.ts';

/** Opens a TCP connection; rejects with ECP_CONNECTION_FAILED (e.g. ECONNREFUSED) or when `signal` aborts. */
export function connectTcp(host: string, port: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const onAbort = (): void => {
      socket.destroy();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (cause: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(
        new ClientError(
          'ECP_CONNECTION_FAILED',
          `cannot connect to ${host}:${port}: ${cause.code ?? cause.message}`,
          {
            cause,
          },
        ),
      );
    });
  });
}
