/**
 * Does a started server answer at all? A handshake with a wrong password (which a server that
 * passes lab 1 refuses), then, if that gets no byte back, a valid one (which a server admits
 * from lab 3 on). A server that answers neither cannot pass a scenario, and running every lab
 * against it would only wait out every timeout.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Socket } from 'node:net';
import type { HostPort } from '../server-under-test/index.ts';

export type ProbeResult = 'answered' | 'closed' | 'silent';

let publicKeyPem: string | undefined;

function probeKey(): string {
  publicKeyPem ??= generateKeyPairSync('rsa', { modulusLength: 2048 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
  return publicKeyPem;
}

export async function probeServer(
  address: HostPort,
  password: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const wrong = await probeHandshake(address, `${password}-not`, timeoutMs);
  return wrong === 'answered' ? wrong : probeHandshake(address, password, timeoutMs);
}

/** One connection, one handshake: any byte back is an answer. */
export function probeHandshake(address: HostPort, password: string, timeoutMs: number): Promise<ProbeResult> {
  const handshake = `${JSON.stringify({
    type: 'handshake',
    username: `grader-${process.pid}`,
    server_password: password,
    public_key: probeKey(),
  })}\n`;
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('silent'), timeoutMs);
    socket.once('data', () => done('answered'));
    socket.once('end', () => done('closed'));
    socket.once('error', () => done('closed'));
    socket.connect(address.port, address.host, () => socket.write(handshake));
  });
}
