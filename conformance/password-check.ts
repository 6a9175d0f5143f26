/**
 * Before the scenarios, one handshake with the kit's password. A server that answers it with an
 * auth_error refuses the password the kit was given: every scenario would then fail, each hinting
 * at the handshake, when the fault is in the kit's command line. Any other outcome (admitted,
 * another line, silence, a closed connection) says nothing about the password: the scenarios judge
 * the server.
 */
import { encodeMessage, generateRsaKeyPair, parseServerMessage } from '../protocol/index.ts';
import type { Target } from '../server-under-test/index.ts';
import { connect } from '../transport/index.ts';

/**
 * How long the check waits for the answer. A refusal comes at once; a server that is silent on a
 * right password (a lab 1 or 2 server) should cost the run no more than this.
 */
const PASSWORD_CHECK_WAIT_MS = 1000;

export class PasswordRefusedError extends Error {
  override readonly name = 'PasswordRefusedError';
  constructor() {
    super('the server refused the password the kit was given: check --password');
  }
}

/** Rejects with PasswordRefusedError when the server answers the kit's password with auth_error. */
export async function checkPassword(target: Target, timeoutMs: number, username: string): Promise<void> {
  const { publicKeyPem } = await generateRsaKeyPair();
  const wait = Math.min(timeoutMs, PASSWORD_CHECK_WAIT_MS);
  let connection: Awaited<ReturnType<typeof connect>>;
  try {
    connection = await connect(target.endpoint, { ...target.connectOptions, timeoutMs: wait });
  } catch {
    return; // Not reachable now: the scenarios will say so.
  }
  const refused = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), wait);
    connection.once('message', (line) => {
      clearTimeout(timer);
      const parsed = parseServerMessage(line);
      resolve(parsed.ok && parsed.message.type === 'auth_error');
    });
    connection.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
    connection.send(
      encodeMessage({
        type: 'handshake',
        username,
        server_password: target.password,
        public_key: publicKeyPem,
      }),
    );
  });
  connection.destroy();
  if (refused) throw new PasswordRefusedError();
}
