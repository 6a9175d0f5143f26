/**
 * EcpClient: one connection to an ECP v1 server, from handshake to close.
 *
 * ```ts
 * const client = new EcpClient({ host, port, username: 'alice', password: 'secret123' });
 * client.on('message', (m) => console.log(m.sender, m.kind === 'undecryptable' ? '?' : m.text));
 * await client.connect(); // resolves once joined, or rejects with a ClientError
 * client.send('hello');
 * await client.close();
 * ```
 *
 * Decisions (see README, Reference client):
 * - Joined = a `user_list` arrives after a `key_exchange` we could open (the v1 join sequence).
 * - Lines that are not valid messages (not JSON, unknown type, missing fields, over-long) are
 *   reported as `protocolError` events and otherwise ignored; the connection goes on.
 * - A `key_exchange` we cannot open is fatal (ECP_INVALID_KEY): we could no longer read the room.
 * - The v1 `Username already taken` notice during the handshake becomes ECP_USERNAME_TAKEN and
 *   the client closes the connection (a v1 server would keep it open, unauthenticated).
 * - The client only sends once joined, always encrypted unless `{ plaintext: true }` is asked for.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  CryptoError,
  EcpError,
  encodeMessage,
  generateRsaKeyPair,
  LineDecoder,
  notices,
  parseServerMessage,
  type RsaKeyPair,
  type ServerChatMessage,
  type ServerMessage,
  unwrapRoomKey,
} from '../protocol/index.ts';
import { ClientError } from './errors.ts';
import type { ChatMessage, ClientEvents } from './events.ts';
import { DEFAULT_KEY_GRACE_MS, Keyring } from './keyring.ts';
import { connectTcp } from './transport.ts';

export const DEFAULT_PORT = 8888;
export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;
/** How long `close()` waits for the server to close its side before dropping the socket. */
const CLOSE_GRACE_MS = 2_000;
const MAX_REPORTED_LINE_CHARS = 200;

export interface ClientOptions {
  host?: string;
  port?: number;
  username: string;
  password: string;
  /** Bound on connect + handshake + key exchange + user list. Default 10 s. */
  timeoutMs?: number;
  /** How long the previous room key still opens messages after a key change. Default 30 s. */
  keyGraceMs?: number;
  /** Longest line accepted from the server. Default 1 MiB. */
  maxLineBytes?: number;
  /** An RSA key pair to use instead of a fresh one (tests; v1 clients use a fresh pair per connection). */
  keyPair?: RsaKeyPair;
}

export type ClientState = 'idle' | 'joining' | 'joined' | 'closed';

export interface JoinResult {
  username: string;
  users: string[];
}

export interface SendOptions {
  /** Send the text in the clear with `encrypted: false`, as v1 clients do before they hold a key. */
  plaintext?: boolean;
}

export class EcpClient extends EventEmitter<ClientEvents> {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly #password: string;
  readonly #timeoutMs: number;
  readonly #keyring: Keyring;
  readonly #decoder: LineDecoder;
  readonly #keyPair: RsaKeyPair | undefined;

  #state: ClientState = 'idle';
  #socket: Socket | undefined;
  #users: string[] = [];
  #join: { resolve: (result: JoinResult) => void; reject: (error: ClientError) => void } | undefined;
  #joinTimer: NodeJS.Timeout | undefined;
  /** Why we are closing, decided before the socket actually closes. */
  #closeError: ClientError | undefined;
  #closingByClient = false;
  #serverShuttingDown = false;
  #closed: Promise<void> | undefined;
  #markClosed: (() => void) | undefined;

  constructor(options: ClientOptions) {
    super();
    this.host = options.host ?? 'localhost';
    this.port = options.port ?? DEFAULT_PORT;
    this.username = options.username;
    this.#password = options.password;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
    this.#keyring = new Keyring({ graceMs: options.keyGraceMs ?? DEFAULT_KEY_GRACE_MS });
    this.#decoder = new LineDecoder({ maxLineBytes: options.maxLineBytes });
    this.#keyPair = options.keyPair;
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The members as of the latest `user_list`, in join order. */
  get users(): readonly string[] {
    return this.#users;
  }

  /**
   * Connects, sends the handshake and resolves once joined. Rejects with a ClientError:
   * ECP_AUTH_FAILED, ECP_USERNAME_TAKEN, ECP_INVALID_KEY, ECP_TIMEOUT, ECP_CONNECTION_FAILED,
   * ECP_CONNECTION_LOST. A `closed` event follows any rejection.
   */
  connect(): Promise<JoinResult> {
    if (this.#state !== 'idle') return Promise.reject(new Error('connect() may be called only once'));
    this.#state = 'joining';
    this.#closed = new Promise((resolve) => {
      this.#markClosed = resolve;
    });
    const joined = new Promise<JoinResult>((resolve, reject) => {
      this.#join = { resolve, reject };
    });
    const abort = new AbortController();
    this.#joinTimer = setTimeout(() => {
      const error = new ClientError('ECP_TIMEOUT', `not joined within ${this.#timeoutMs} ms`);
      abort.abort(error);
      this.#fail(error);
    }, this.#timeoutMs);
    this.#open(abort.signal).catch((error: unknown) => this.#fail(asClientError(error)));
    return joined;
  }

  /** Sends one chat message. Only once joined; throws ECP_NOT_JOINED otherwise. */
  send(text: string, options: SendOptions = {}): void {
    if (this.#state !== 'joined' || this.#socket === undefined) {
      throw new ClientError('ECP_NOT_JOINED', `cannot send while ${this.#state}`);
    }
    const message = options.plaintext ? text : this.#keyring.seal(text);
    this.#socket.write(encodeMessage({ type: 'message', message, encrypted: !options.plaintext }));
  }

  /** Closes the connection (a pending `connect()` rejects). Resolves after the `closed` event. */
  close(): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'closed';
      return Promise.resolve();
    }
    if (this.#state !== 'closed' && !this.#closingByClient) {
      this.#closingByClient = true;
      this.#rejectJoin(new ClientError('ECP_CONNECTION_LOST', 'closed by the client before joining'));
      const socket = this.#socket;
      if (socket === undefined) {
        this.#onClose();
      } else {
        // end() lets the server see an orderly leave; destroy() bounds the wait for its side.
        socket.end();
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      }
    }
    return this.#closed ?? Promise.resolve();
  }

  async #open(signal: AbortSignal): Promise<void> {
    const keyPair = this.#keyPair ?? (await generateRsaKeyPair());
    if (this.#state !== 'joining') return;
    const socket = await connectTcp(this.host, this.port, signal);
    if (this.#state !== 'joining') {
      socket.destroy();
      return;
    }
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk, keyPair));
    // A reset or EPIPE is followed by 'close'; the close decides what to report.
    socket.on('error', (cause) => {
      if (this.#closingByClient) return;
      this.#closeError ??= new ClientError('ECP_CONNECTION_LOST', `connection lost: ${cause.message}`, {
        cause,
      });
    });
    socket.on('close', () => this.#onClose());
    socket.write(
      encodeMessage({
        type: 'handshake',
        username: this.username,
        server_password: this.#password,
        public_key: keyPair.publicKeyPem,
      }),
    );
  }

  #onData(chunk: Buffer, keyPair: RsaKeyPair): void {
    for (const item of this.#decoder.push(chunk)) {
      if (this.#state === 'closed' || this.#closeError !== undefined) return;
      if (typeof item === 'string') {
        this.#onLine(item, keyPair);
      } else {
        this.#reportProtocolError(item, undefined);
      }
    }
  }

  #onLine(line: string, keyPair: RsaKeyPair): void {
    const parsed = parseServerMessage(line);
    if (!parsed.ok) {
      this.#reportProtocolError(parsed.error, line);
      return;
    }
    this.#onMessage(parsed.message, keyPair);
  }

  #onMessage(message: ServerMessage, keyPair: RsaKeyPair): void {
    const time = new Date();
    switch (message.type) {
      case 'auth_error':
        this.#fail(
          new ClientError('ECP_AUTH_FAILED', `server refused the handshake: ${message.message}`, {
            serverMessage: message.message,
          }),
        );
        return;
      case 'system':
        this.emit('system', { text: message.message, time });
        if (message.message === notices.shuttingDown) this.#serverShuttingDown = true;
        if (this.#state !== 'joining') return;
        if (message.message === notices.usernameTaken) {
          this.#fail(
            new ClientError('ECP_USERNAME_TAKEN', `username '${this.username}' is already taken`, {
              serverMessage: message.message,
            }),
          );
        } else if (message.message === notices.keyFailed) {
          this.#fail(
            new ClientError('ECP_INVALID_KEY', 'the server could not use our public key', {
              serverMessage: message.message,
            }),
          );
        }
        return;
      case 'key_exchange':
        this.#onKeyExchange(message.encrypted_key, keyPair, time);
        return;
      case 'user_list':
        this.#onUserList(message.users, time);
        return;
      case 'message':
        this.emit('message', this.#readChat(message, time));
        return;
    }
  }

  #onKeyExchange(encryptedKey: string, keyPair: RsaKeyPair, time: Date): void {
    let keyText: string;
    try {
      keyText = unwrapRoomKey(encryptedKey, keyPair.privateKey);
    } catch (cause) {
      this.#fail(
        new ClientError('ECP_INVALID_KEY', `cannot open the room key: ${(cause as Error).message}`, {
          cause,
          detail: cause instanceof EcpError ? cause.code : undefined,
        }),
      );
      return;
    }
    const changed = this.#keyring.install(keyText, time.getTime());
    if (changed && this.#state === 'joined') this.emit('keyChanged', { time });
  }

  #onUserList(users: string[], time: Date): void {
    const before = this.#users;
    this.#users = [...users];
    if (this.#state === 'joining') {
      // v1 sends the user list after the key; a list before the key is only remembered.
      if (!this.#keyring.hasKey) return;
      this.#state = 'joined';
      clearTimeout(this.#joinTimer);
      const join = this.#join;
      this.#join = undefined;
      join?.resolve({ username: this.username, users: [...users] });
      this.emit('joined', { username: this.username, users: [...users], time });
      return;
    }
    if (this.#state !== 'joined') return;
    this.emit('users', {
      users: [...users],
      joined: users.filter((name) => !before.includes(name)),
      left: before.filter((name) => !users.includes(name)),
      time,
    });
  }

  #readChat(message: ServerChatMessage, time: Date): ChatMessage {
    const base = { sender: message.sender, own: message.sender === this.username, time };
    if (!message.encrypted) return { ...base, kind: 'plaintext', text: message.message };
    if (!this.#keyring.hasKey) {
      return { ...base, kind: 'undecryptable', payload: message.message, reason: 'no room key held yet' };
    }
    try {
      const opened = this.#keyring.open(message.message, time.getTime());
      return { ...base, kind: 'encrypted', text: opened.text, key: opened.key };
    } catch (error) {
      const reason = error instanceof CryptoError ? `${error.code}: ${error.message}` : String(error);
      return { ...base, kind: 'undecryptable', payload: message.message, reason };
    }
  }

  #reportProtocolError(cause: EcpError, line: string | undefined): void {
    const error = new ClientError('ECP_PROTOCOL_ERROR', `ignored a line from the server: ${cause.message}`, {
      cause,
      detail: cause.code,
    });
    const shown =
      line === undefined || line.length <= MAX_REPORTED_LINE_CHARS ? line : `${line.slice(0, 200)}…`;
    this.emit('protocolError', { error, line: shown, time: new Date() });
  }

  /** Ends the connection because of `error`; a pending join rejects with it. */
  #fail(error: ClientError): void {
    if (this.#state === 'closed') return;
    this.#closeError ??= error;
    this.#rejectJoin(error);
    if (this.#socket === undefined) {
      this.#onClose();
    } else {
      this.#socket.destroy();
    }
  }

  #rejectJoin(error: ClientError): void {
    clearTimeout(this.#joinTimer);
    const join = this.#join;
    this.#join = undefined;
    join?.reject(error);
  }

  #onClose(): void {
    if (this.#state === 'closed') return;
    const wasJoining = this.#state === 'joining';
    this.#state = 'closed';
    this.#decoder.reset();
    let error = this.#closeError;
    let reason: string;
    if (error !== undefined) {
      reason = error.message;
    } else if (this.#closingByClient) {
      reason = 'closed by client';
    } else if (this.#serverShuttingDown) {
      reason = notices.shuttingDown;
      // Joining clients get an error either way: they never joined.
      if (wasJoining)
        error = new ClientError('ECP_CONNECTION_LOST', `server shut down: ${notices.shuttingDown}`);
    } else {
      error = new ClientError(
        'ECP_CONNECTION_LOST',
        wasJoining ? 'the server closed the connection before we joined' : 'the server closed the connection',
      );
      reason = error.message;
    }
    if (error !== undefined) this.#rejectJoin(error);
    this.emit('closed', {
      reason,
      byClient: this.#closingByClient && this.#closeError === undefined,
      error,
      time: new Date(),
    });
    this.#markClosed?.();
  }
}

function asClientError(error: unknown): ClientError {
  if (error instanceof ClientError) return error;
  return new ClientError('ECP_CONNECTION_FAILED', (error as Error)?.message ?? String(error), {
    cause: error,
  });
}
