/**
 * Does a started server answer at all? A handshake with a wrong password (which a server that
 * passes lab 1 refuses), then, if that gets nothing back, a valid one (which a server admits from
 * lab 3 on). A server that answers neither cannot pass a scenario, and running every lab against it
 * would only wait out every timeout. The probe reaches the server as the labs will, through the
 * transport its target names (tcp, tls, ws, wss).
 */
import { encodeMessage, generateRsaKeyPair, handshakeMessage } from '../protocol/index.ts';
import type { Target } from '../server-under-test/index.ts';
import { type Connection, connect, TransportError } from '../transport/index.ts';

export type ProbeResult =
  /** Something came back: a message, or bytes that are not one. */
  | { kind: 'answered' }
  /** The server closed the connection without a word. */
  | { kind: 'closed' }
  /** Nothing came back in time. */
  | { kind: 'silent' }
  /** No connection: the TLS handshake or the WebSocket upgrade failed or did not end in time. */
  | { kind: 'unreachable'; reason: string };

/** Where the probe connects, and how it trusts a TLS server. */
export type ProbeTarget = Pick<Target, 'endpoint' | 'connectOptions'>;

let publicKeyPem: Promise<string> | undefined;

function probeKey(): Promise<string> {
  publicKeyPem ??= generateRsaKeyPair().then((keys) => keys.publicKeyPem);
  return publicKeyPem;
}

export async function probeServer(
  target: ProbeTarget,
  password: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const wrong = await probeHandshake(target, `${password}-not`, timeoutMs);
  if (wrong.kind === 'closed' || wrong.kind === 'silent') return probeHandshake(target, password, timeoutMs);
  return wrong;
}

/** One connection, one handshake: anything back is an answer. */
export async function probeHandshake(
  target: ProbeTarget,
  password: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const handshake = encodeMessage(handshakeMessage(`grader-${process.pid}`, password, await probeKey()));
  const deadline = Date.now() + timeoutMs;
  let connection: Connection;
  try {
    // Exact framing: a last line without its line feed, or a blank line, is an answer too.
    connection = await connect(target.endpoint, { ...target.connectOptions, timeoutMs, exactFraming: true });
  } catch (error) {
    // The server accepts TCP connections (it started): what failed is the transport's own opening.
    if (error instanceof TransportError) return { kind: 'unreachable', reason: error.message };
    throw error;
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ kind: 'silent' }), Math.max(0, deadline - Date.now()));
    connection.on('message', () => done({ kind: 'answered' }));
    connection.on('framingError', () => done({ kind: 'answered' }));
    connection.on('end', () => done({ kind: 'closed' }));
    connection.on('close', () => done({ kind: 'closed' }));
    connection.send(handshake);
  });
}
