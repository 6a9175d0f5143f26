/** Binding and closing a listening socket, the same way for every transport. */
import type { Server } from 'node:net';
import { type Endpoint, formatEndpoint } from './endpoint.ts';
import { TransportError } from './errors.ts';

/** Listens on the endpoint's host and port; rejects with ECP_LISTEN_FAILED (EADDRINUSE, EACCES, ...). */
export async function listenOn(
  server: Server,
  endpoint: Endpoint,
  onAcceptError: (error: Error & { code?: string }) => void = () => {},
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      reject(
        new TransportError(
          'ECP_LISTEN_FAILED',
          `cannot listen on ${formatEndpoint(endpoint)}: ${error.code ?? error.message}`,
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen({ host: endpoint.host, port: endpoint.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After listening, an error (EMFILE on accept, ...) must not crash the process; accepting goes on.
  server.on('error', onAcceptError);
}

/** Stops accepting; resolves once the listening socket is closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
