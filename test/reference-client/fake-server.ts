/**
 * A scriptable fake server for client tests: each connection runs a script that reads what the
 * client sent and writes whatever the test wants, including garbage no real server would send.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Fernet, joinSequence, LineDecoder, wrapRoomKey } from '../../protocol/index.ts';
import type { ClientEvents, EcpClient } from '../../reference-client/index.ts';

export const WAIT_MS = 5_000;

export interface FakeConnection {
  readonly socket: Socket;
  /** The next JSON object the client sent; rejects after `timeoutMs` or when the client closes. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  send(message: object): void;
  sendRaw(data: string | Uint8Array): void;
  /** Resolves when the client's side has closed. */
  readonly closed: Promise<void>;
}

export interface FakeServer {
  readonly port: number;
  /** Connections accepted so far, in order. */
  readonly connections: FakeConnection[];
  close(): Promise<void>;
}

export async function startFakeServer(script: (connection: FakeConnection) => unknown): Promise<FakeServer> {
  const connections: FakeConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    const connection = wrap(socket);
    connections.push(connection);
    connection.closed.then(() => sockets.delete(socket));
    Promise.resolve()
      .then(() => script(connection))
      .catch(() => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function wrap(socket: Socket): FakeConnection {
  const decoder = new LineDecoder();
  const queue: Record<string, unknown>[] = [];
  const waiters: Array<(value: Record<string, unknown> | undefined) => void> = [];
  let ended = false;
  socket.on('data', (chunk: Buffer) => {
    for (const line of decoder.push(chunk)) {
      if (typeof line !== 'string') continue;
      const value = JSON.parse(line) as Record<string, unknown>;
      const waiter = waiters.shift();
      if (waiter) waiter(value);
      else queue.push(value);
    }
  });
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      ended = true;
      for (const waiter of waiters.splice(0)) waiter(undefined);
      resolve();
    }),
  );
  return {
    socket,
    closed,
    next: (timeoutMs = WAIT_MS) => {
      const queued = queue.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (ended) return Promise.reject(new Error('client closed'));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message from the client in time')), timeoutMs);
        waiters.push((value) => {
          clearTimeout(timer);
          if (value === undefined) reject(new Error('client closed'));
          else resolve(value);
        });
      });
    },
    send: (message) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
    },
    sendRaw: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
  };
}

/**
 * Plays the server's side of a successful v1 join for `users` (the joiner last) with `roomKey`.
 * Returns the client's handshake.
 */
export async function acceptJoin(
  connection: FakeConnection,
  roomKey: string,
  users?: string[],
): Promise<Record<string, unknown>> {
  const handshake = await connection.next();
  const username = String(handshake.username);
  const encryptedKey = wrapRoomKey(roomKey, String(handshake.public_key));
  for (const message of joinSequence(username, encryptedKey, users ?? [username])) connection.send(message);
  return handshake;
}

export function newRoomKey(): string {
  return Fernet.generateKey();
}

/** Records every event of a client, so a test can wait for one that may already have happened. */
export class EventRecorder {
  readonly events: Array<{ name: keyof ClientEvents; value: ClientEvents[keyof ClientEvents][0] }> = [];
  readonly #listeners = new Set<() => void>();

  constructor(client: EcpClient) {
    for (const name of EVENT_NAMES) {
      client.on(name, (value: ClientEvents[typeof name][0]) => {
        this.events.push({ name, value });
        for (const listener of this.#listeners) listener();
      });
    }
  }

  all<K extends keyof ClientEvents>(name: K): Array<ClientEvents[K][0]> {
    return this.events
      .filter((event) => event.name === name)
      .map((event) => event.value as ClientEvents[K][0]);
  }

  /** The first recorded `name` event that `predicate` accepts, waiting up to `timeoutMs` for it. */
  waitFor<K extends keyof ClientEvents>(
    name: K,
    predicate: (value: ClientEvents[K][0]) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<ClientEvents[K][0]> {
    const find = () => this.all(name).find(predicate);
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const value = find();
        if (value === undefined) return;
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`timed out waiting for a '${name}' event`));
      }, timeoutMs);
      this.#listeners.add(check);
    });
  }
}

const EVENT_NAMES: Array<keyof ClientEvents> = [
  'joined',
  'message',
  'users',
  'system',
  'keyChanged',
  'protocolError',
  'closed',
];

/** Wraps a close function so calling it twice closes once. */
export function onlyOnce(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= close();
    return closing;
  };
}

/** Polls `condition` every 5 ms until it holds, or throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
