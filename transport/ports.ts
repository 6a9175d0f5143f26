/**
 * Ports as a starter of servers needs them: one that is free to listen on, and whether something
 * accepts TCP connections on one yet (every transport of ECP listens on TCP).
 */
import { createServer, Socket } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** A port that was free a moment ago on `host` (the OS picks it; a small race remains). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}

/** Whether something accepts TCP connections at `host:port` right now. */
export function canConnect({ host, port }: HostPort, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/**
 * Polls until `host:port` accepts connections. Resolves false when `timeoutMs` passes or
 * `gaveUp()` turns true first (e.g. the server process exited).
 */
export async function waitUntilAccepting(
  address: HostPort,
  timeoutMs: number,
  gaveUp: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp()) {
    if (await canConnect(address, Math.min(1000, Math.max(1, deadline - Date.now())))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
