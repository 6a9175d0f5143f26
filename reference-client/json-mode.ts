/**
 * `ecp client --json`: the scriptable client. Every non-empty stdin line is sent verbatim as one
 * encrypted chat message (no slash commands); every event is written to stdout as one JSON object
 * per line. Schema (every object has `event` and an ISO-8601 `time`):
 *
 *   {"event":"joined","username":"alice","users":["alice","bob"],"time":…}
 *   {"event":"message","sender":"bob","own":false,"encrypted":true,"text":"hi","time":…}
 *       encrypted:false → sent in the clear; undecryptable:true, text:null and "error" → could not be decrypted
 *   These lines meet the kit's driver contract for clients (docs/conformance.md): each chat message
 *   shown has sender, text and encrypted; every other event has no `sender`.
 *   {"event":"users","users":[…],"joined":[…],"left":[…],"time":…}
 *   {"event":"system","text":"bob has joined the chat","time":…}
 *   {"event":"key_changed","time":…}
 *   {"event":"error","code":"ECP_…","detail":"ECP_…"|null,"message":"…","fatal":false|true,"time":…}
 *       fatal:false → a bad line from the server, ignored; fatal:true → the session ends
 *   {"event":"closed","reason":"…","by_client":true|false,"code":"ECP_…"|null,"time":…}  (always last)
 *
 * Exit status (see exit-codes.ts): 0 when stdin ended and the server echoed every line sent;
 * 1 authentication failure; 3 connection failed, lost or closed by the server, timeout.
 */
import { createInterface } from 'node:readline';
import { type ClientOptions, EcpClient } from './client.ts';
import type { ClientError } from './errors.ts';
import type { ChatMessage } from './events.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';

export interface JsonModeIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

export interface JsonModeOptions extends ClientOptions {
  /** How long to wait, after stdin ends, for the echoes of the lines sent. Default: `timeoutMs`, else 10 s. */
  drainTimeoutMs?: number;
}

export async function runJsonMode(options: JsonModeOptions, io: JsonModeIo): Promise<ExitCode> {
  const write = (event: string, fields: Record<string, unknown>, time: Date): void => {
    io.output.write(`${JSON.stringify({ event, ...fields, time: time.toISOString() })}\n`);
  };
  const writeError = (error: ClientError, fatal: boolean, time: Date): void =>
    write('error', { code: error.code, detail: error.detail ?? null, message: error.message, fatal }, time);

  const client = new EcpClient(options);
  let sent = 0;
  let echoed = 0;
  let onEcho: (() => void) | undefined;
  client.on('joined', (e) => write('joined', { username: e.username, users: e.users }, e.time));
  client.on('message', (m) => {
    write('message', messageFields(m), m.time);
    if (m.own) {
      echoed += 1;
      onEcho?.();
    }
  });
  client.on('users', (e) => write('users', { users: e.users, joined: e.joined, left: e.left }, e.time));
  client.on('system', (e) => write('system', { text: e.text }, e.time));
  client.on('keyChanged', (e) => write('key_changed', {}, e.time));
  client.on('protocolError', (e) => writeError(e.error, false, e.time));
  const closed = new Promise<ClientError | undefined>((resolve) =>
    client.once('closed', (e) => {
      if (e.error !== undefined) writeError(e.error, true, e.time);
      write('closed', { reason: e.reason, by_client: e.byClient, code: e.error?.code ?? null }, e.time);
      resolve(e.error);
    }),
  );

  try {
    await client.connect();
  } catch {
    return exitCodeFor(await closed);
  }

  // Lines are read only once joined; until then they wait in the stream.
  const lines = createInterface({ input: io.input, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (line === '' || client.state !== 'joined') return;
    client.send(line);
    sent += 1;
  });
  const inputEnded = new Promise<'ended'>((resolve) => lines.once('close', () => resolve('ended')));
  const outcome = await Promise.race([inputEnded, closed.then(() => 'closed' as const)]);
  if (outcome === 'closed') {
    lines.close();
    // The server ended the session before stdin did: whatever its reason, not everything was sent.
    return exitCodeFor(await closed);
  }

  const drainTimeoutMs = options.drainTimeoutMs ?? options.timeoutMs ?? 10_000;
  const drained = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), drainTimeoutMs);
    onEcho = () => {
      if (echoed < sent) return;
      clearTimeout(timer);
      resolve(true);
    };
    onEcho();
    closed.then(() => {
      clearTimeout(timer);
      resolve(echoed >= sent);
    });
  });
  if (client.state !== 'closed' && !drained) {
    write(
      'error',
      {
        code: 'ECP_TIMEOUT',
        detail: null,
        message: `only ${echoed} of ${sent} messages were echoed within ${drainTimeoutMs} ms`,
        fatal: true,
      },
      new Date(),
    );
  }
  if (client.state === 'closed' && !drained) return exitCodeFor(await closed);
  await client.close();
  return drained ? ExitCode.ok : ExitCode.connectionLost;
}

function messageFields(message: ChatMessage): Record<string, unknown> {
  const base = { sender: message.sender, own: message.own };
  switch (message.kind) {
    case 'encrypted':
      return { ...base, encrypted: true, text: message.text };
    case 'plaintext':
      return { ...base, encrypted: false, text: message.text };
    case 'undecryptable':
      return { ...base, encrypted: true, undecryptable: true, text: null, error: message.reason };
  }
}
