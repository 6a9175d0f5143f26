/**
 * Runs a client mutant: the reference JSON client, connected to the room through a proxy that
 * holds the room key (it presents its own RSA key to the room and re-wraps the room key for the
 * client) and applies the mutant's fault to each line, or to what the client prints and how it
 * exits.
 */

import { DEFAULT_LIMITS, generateRsaKeyPair, unwrapRoomKey, wrapRoomKey } from '../../protocol/index.ts';
import { runJsonMode } from '../../reference-client/index.ts';
import { type Connection, connect, listen } from '../../transport/index.ts';
import type { ClientFault, ClientMutant } from './client-catalogue.ts';

export interface FaultyClientOptions {
  url: string;
  username: string;
  password: string;
  ca?: Buffer;
}

export async function runFaultyClient(
  mutant: ClientMutant,
  options: FaultyClientOptions,
  io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream },
): Promise<number> {
  const fault = mutant.build;
  if (fault.banner !== undefined) io.output.write(`${fault.banner}\n`);
  const proxy = await startKeyHoldingProxy(fault, options);
  let code: number;
  try {
    code = await runJsonMode(
      {
        url: `tcp://127.0.0.1:${proxy.port}`,
        username: options.username,
        password: options.password,
        timeoutMs: 10_000,
      },
      io,
    );
  } finally {
    await proxy.close();
  }
  if (fault.neverExits) await new Promise(() => setInterval(() => {}, 60_000));
  return fault.alwaysExitsZero ? 0 : code;
}

async function startKeyHoldingProxy(
  fault: ClientFault,
  options: FaultyClientOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const keys = await generateRsaKeyPair(fault.keyBits ?? 2048);
  const open = new Set<Connection>();
  const listener = await listen(
    'tcp://127.0.0.1:0',
    { maxMessageBytes: DEFAULT_LIMITS.maxLineBytes, handshakeTimeoutMs: DEFAULT_LIMITS.handshakeTimeoutMs },
    (inner) => {
      open.add(inner);
      inner.pause();
      connect(options.url, {
        ...(options.ca ? { ca: options.ca } : {}),
        ...(fault.trustsAnyCertificate ? { insecure: true } : {}),
      }).then(
        (outer) => {
          open.add(outer);
          relay(fault, keys, inner, outer);
          inner.resume();
        },
        () => inner.destroy(),
      );
    },
  );
  return {
    port: listener.port,
    close: async () => {
      for (const connection of open) connection.destroy();
      await listener.close();
    },
  };
}

function relay(
  fault: ClientFault,
  keys: Awaited<ReturnType<typeof generateRsaKeyPair>>,
  inner: Connection,
  outer: Connection,
): void {
  let clientPublicKey = '';
  let roomKey: string | undefined;
  let keyExchanges = 0;
  const context = { roomKey: () => roomKey };
  inner.on('message', (line) => {
    const message = parse(line);
    let out: string | undefined = line;
    if (message?.type === 'handshake') {
      clientPublicKey = String(message.public_key);
      out = JSON.stringify({ ...message, public_key: keys.publicKeyPem });
    } else if (message && fault.fromClient) {
      out = fault.fromClient(message, line, context);
    }
    if (out !== undefined) outer.send(`${out}\n`);
  });
  outer.on('message', (line) => {
    let message = parse(line);
    let out: string | undefined | 'close' = line;
    if (message?.type === 'key_exchange') {
      roomKey = unwrapRoomKey(String(message.encrypted_key), keys.privateKey);
      keyExchanges += 1;
      message = { ...message, encrypted_key: wrapRoomKey(roomKey, clientPublicKey) };
      out = JSON.stringify(message);
    }
    if (message && fault.toClient) out = fault.toClient(message, out, context, keyExchanges);
    if (out === 'close') {
      inner.destroy();
      outer.destroy();
    } else if (out !== undefined) inner.send(`${out}\n`);
  });
  inner.on('close', () => outer.end());
  outer.on('close', () => inner.end());
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
