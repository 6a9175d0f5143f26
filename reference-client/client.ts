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
import {
  ClientJoin,
  CryptoError,
  DEFAULT_PORT,
  EcpError,
  encodeMessage,
  generateRsaKeyPair,
  handshakeMessage,
  type JoinRefusal,
  notices,
  parseServerMessage,
  type RsaKeyPair,
  type ServerChatMessage,
  type ServerMessage,
  unwrapRoomKey,
} from '../protocol/index.ts';
import {
  type CloseInfo,
  type Connection,
  connect,
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  TransportError,
} from '../transport/index.ts';
import { ClientError } from './errors.ts';
import type { ChatMessage, ClientEvents } from './events.ts';
import { DEFAULT_KEY_GRACE_MS, Keyring } from './keyring.ts';

export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;
/** How long `close()` waits for the server to close its side before dropping the socket. */
const CLOSE_GRACE_MS = 2_000;
const MAX_REPORTED_LINE_CHARS = 200;

export interface ClientOptions {
  /** The server: `tcp://host:port`, `tls://host:port`, `ws://host:port/path`, `wss://...`, or `host:port`. Overrides host and port. */
  url?: string;
  /** Plain TCP server host, when no `url` is given. Default localhost. */
  host?: string;
  /** Plain TCP server port, when no `url` is given. Default 8888. */
  port?: number;
  /** TLS (tls://, wss://): trust this CA certificate (PEM) instead of the system's. */
  ca?: string | Buffer;
  /** TLS: do not verify the server's certificate (the connection is then open to a man in the middle). */
  insecure?: boolean;
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
  readonly endpoint: Endpoint;
  readonly username: string;
  readonly #password: string;
  readonly #timeoutMs: number;
  readonly #keyring: Keyring;
  readonly #maxLineBytes: number | undefined;
  readonly #keyPair: RsaKeyPair | undefined;
  readonly #tls: { ca?: string | Buffer; insecure?: boolean };

  #state: ClientState = 'idle';
  #connection: Connection | undefined;
  #join: ClientJoin | undefined;
  #users: string[] = [];
  #joining: { resolve: (result: JoinResult) => void; reject: (error: ClientError) => void } | undefined;
  #joinTimer: NodeJS.Timeout | undefined;
  /** Why we are closing, decided before the socket actually closes. */
  #closeError: ClientError | undefined;
  #closingByClient = false;
  #serverShuttingDown = false;
  #closed: Promise<void> | undefined;
  #markClosed: (() => void) | undefined;

  constructor(options: ClientOptions) {
    super();
    // Throws a TransportError ECP_BAD_ENDPOINT for a URL it cannot use.
    this.endpoint =
      options.url === undefined
        ? {
            transport: 'tcp',
            host: options.host ?? 'localhost',
            port: options.port ?? DEFAULT_PORT,
            path: '',
          }
        : parseEndpoint(options.url);
    this.username = options.username;
    this.#password = options.password;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
    this.#keyring = new Keyring({ graceMs: options.keyGraceMs ?? DEFAULT_KEY_GRACE_MS });
    this.#maxLineBytes = options.maxLineBytes;
    this.#keyPair = options.keyPair;
    this.#tls = { ca: options.ca, insecure: options.insecure };
  }

  /** The server's host, as connected to. */
  get host(): string {
    return this.endpoint.host;
  }

  get port(): number {
    return this.endpoint.port;
  }

  /** The server's URL, e.g. `tcp://localhost:8888`. */
  get url(): string {
    return formatEndpoint(this.endpoint);
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
      this.#joining = { resolve, reject };
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
    if (this.#state !== 'joined' || this.#connection === undefined) {
      throw new ClientError('ECP_NOT_JOINED', `cannot send while ${this.#state}`);
    }
    const message = options.plaintext ? text : this.#keyring.seal(text);
    this.#connection.send(encodeMessage({ type: 'message', message, encrypted: !options.plaintext }));
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
      const connection = this.#connection;
      if (connection === undefined) {
        this.#onClose();
      } else {
        // end() lets the server see an orderly leave; destroy() bounds the wait for its side.
        connection.end();
        setTimeout(() => connection.destroy(), CLOSE_GRACE_MS).unref();
      }
    }
    return this.#closed ?? Promise.resolve();
  }

  async #open(signal: AbortSignal): Promise<void> {
    const keyPair = this.#keyPair ?? (await generateRsaKeyPair());
    if (this.#state !== 'joining') return;
    const connection = await connect(this.endpoint, {
      signal,
      timeoutMs: this.#timeoutMs,
      ...(this.#maxLineBytes === undefined ? {} : { maxMessageBytes: this.#maxLineBytes }),
      ...this.#tls,
    });
    if (this.#state !== 'joining') {
      connection.destroy();
      return;
    }
    this.#connection = connection;
    this.#join = new ClientJoin({ privateKey: keyPair.privateKey });
    connection.on('message', (line: string) => this.#onLine(line, keyPair));
    connection.on('framingError', (error) => this.#reportProtocolError(error, undefined));
    connection.on('close', (info: CloseInfo) => {
      // A reset or EPIPE: the close decides what to report.
      if (info.error !== undefined && !this.#closingByClient) {
        this.#closeError ??= new ClientError(
          'ECP_CONNECTION_LOST',
          `connection lost: ${info.error.message}`,
          {
            cause: info.error,
          },
        );
      }
      this.#onClose();
    });
    connection.send(encodeMessage(handshakeMessage(this.username, this.#password, keyPair.publicKeyPem)));
  }

  #onLine(line: string, keyPair: RsaKeyPair): void {
    if (this.#state === 'closed' || this.#closeError !== undefined) return;
    const parsed = parseServerMessage(line);
    if (!parsed.ok) {
      this.#reportProtocolError(parsed.error, line);
      return;
    }
    this.#onMessage(parsed.message, keyPair);
  }

  #onMessage(message: ServerMessage, keyPair: RsaKeyPair): void {
    const time = new Date();
    if (message.type === 'system') {
      this.emit('system', { text: message.message, time });
      if (message.message === notices.shuttingDown) this.#serverShuttingDown = true;
    }
    if (this.#state === 'joining') {
      this.#joinStep(message, time);
      return;
    }
    switch (message.type) {
      case 'auth_error':
        this.#fail(
          new ClientError('ECP_AUTH_FAILED', `server refused the handshake: ${message.message}`, {
            serverMessage: message.message,
          }),
        );
        return;
      case 'system':
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

  /** A message while joining goes through the protocol's join state machine. */
  #joinStep(message: ServerMessage, time: Date): void {
    const join = this.#join!;
    const state = join.receive(message);
    if (message.type === 'key_exchange' && join.roomKeyText !== undefined) {
      this.#keyring.install(join.roomKeyText, time.getTime());
    }
    if (message.type === 'message') this.emit('message', this.#readChat(message, time));
    if (message.type === 'user_list') this.#users = [...message.users];
    if (state === 'refused') {
      this.#fail(refusalError(join.refusal!, this.username));
    } else if (state === 'joined') {
      this.#state = 'joined';
      clearTimeout(this.#joinTimer);
      const joining = this.#joining;
      this.#joining = undefined;
      const users = [...this.#users];
      joining?.resolve({ username: this.username, users });
      this.emit('joined', { username: this.username, users: [...users], time });
    }
  }

  #onUserList(users: string[], time: Date): void {
    const before = this.#users;
    this.#users = [...users];
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
    if (this.#connection === undefined) {
      this.#onClose();
    } else {
      this.#connection.destroy();
    }
  }

  #rejectJoin(error: ClientError): void {
    clearTimeout(this.#joinTimer);
    const joining = this.#joining;
    this.#joining = undefined;
    joining?.reject(error);
  }

  #onClose(): void {
    if (this.#state === 'closed') return;
    const wasJoining = this.#state === 'joining';
    this.#state = 'closed';
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
  if (error instanceof TransportError) {
    const code = error.code === 'ECP_CONNECT_TIMEOUT' ? 'ECP_TIMEOUT' : 'ECP_CONNECTION_FAILED';
    return new ClientError(code, error.message, { cause: error, detail: error.code });
  }
  return new ClientError('ECP_CONNECTION_FAILED', (error as Error)?.message ?? String(error), {
    cause: error,
  });
}

/** The ClientError for a join the server refused, in the words the client has always used. */
function refusalError(refusal: JoinRefusal, username: string): ClientError {
  switch (refusal.reason) {
    case 'auth_error':
      return new ClientError('ECP_AUTH_FAILED', `server refused the handshake: ${refusal.serverMessage}`, {
        serverMessage: refusal.serverMessage,
      });
    case 'username_taken':
      return new ClientError('ECP_USERNAME_TAKEN', `username '${username}' is already taken`, {
        serverMessage: refusal.serverMessage,
      });
    case 'key_refused':
      return new ClientError('ECP_INVALID_KEY', 'the server could not use our public key', {
        serverMessage: refusal.serverMessage,
      });
    case 'key_unusable':
      return new ClientError('ECP_INVALID_KEY', `cannot open the room key: ${refusal.error.message}`, {
        cause: refusal.error,
        detail: refusal.error.code,
      });
  }
}
