/**
 * One connection: bytes in through a LineDecoder, the handshake state machine and its timer,
 * chat into the room, and output through an Outbox. Every way a connection ends goes through
 * one place (#finish), so the room hears about each leave exactly once.
 */
import type { Socket } from 'node:net';
import {
  authErrors,
  type ClientMessage,
  type FramingError,
  type HandshakeMessage,
  type Limits,
  LineDecoder,
  type MessageError,
  notices,
  parseClientMessage,
} from '../protocol/index.ts';
import { checkHandshake, invalidHandshakeText } from './handshake.ts';
import type { Logger } from './logger.ts';
import { type FlushQueue, Outbox } from './outbox.ts';
import type { PasswordCheck } from './password.ts';
import type { Room, RoomMember } from './room.ts';
import type { BadInputKind, HandshakeFailureReason, ServerStats } from './stats.ts';
import { encodeLine } from './wire.ts';

/** What every session of one server shares. */
export interface SessionContext {
  room: Room;
  limits: Readonly<Limits>;
  password: PasswordCheck;
  flushQueue: FlushQueue;
  stats: ServerStats;
  logger: Logger;
  /** How long a connection we are closing may take to read its last line before it is destroyed. */
  closeGraceMs: number;
}

export type SessionState = 'handshaking' | 'member' | 'closing' | 'closed';

/** Why a connection ended, as logged. */
export type CloseReason =
  | 'client_closed'
  | 'connection_error'
  | 'slow_reader'
  | 'refused'
  | 'line_too_long'
  | 'shutdown';

const SHUTTING_DOWN_LINE = encodeLine({ type: 'system', message: notices.shuttingDown });

export class Session implements RoomMember {
  readonly id: number;
  /** Set when the handshake is accepted; empty before. */
  username = '';
  readonly #socket: Socket;
  readonly #context: SessionContext;
  readonly #decoder: LineDecoder;
  readonly #outbox: Outbox;
  readonly #logger: Logger;
  readonly #onClosed: (session: Session) => void;
  readonly #openedAt = Date.now();
  #state: SessionState = 'handshaking';
  #closeReason: CloseReason | undefined;
  #closeDetail: string | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  /** Bad input seen on this connection, by kind: the first is logged, the rest only counted. */
  #badInput: Partial<Record<BadInputKind, number>> | undefined;

  constructor(socket: Socket, id: number, context: SessionContext, onClosed: (session: Session) => void) {
    this.id = id;
    this.#socket = socket;
    this.#context = context;
    this.#onClosed = onClosed;
    this.#decoder = new LineDecoder({ maxLineBytes: context.limits.maxLineBytes });
    this.#outbox = new Outbox(
      socket,
      context.flushQueue,
      context.limits.maxPendingOutputBytes,
      context.stats,
    );
    this.#logger = context.logger.child({ conn: id, remote: `${socket.remoteAddress}:${socket.remotePort}` });
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Output not yet taken by the kernel. */
  get pendingOutputBytes(): number {
    return this.#outbox.pendingBytes;
  }

  /** Wires the socket and starts the handshake timer. */
  start(): void {
    const socket = this.#socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (error: NodeJS.ErrnoException) => this.#onError(error));
    socket.on('close', () => this.#finish());
    this.#handshakeTimer = setTimeout(
      () => this.#onHandshakeTimeout(),
      this.#context.limits.handshakeTimeoutMs,
    );
    this.#handshakeTimer.unref();
    this.#logger.info('connection accepted');
  }

  deliver(line: Buffer): boolean {
    if (this.#state !== 'member' && this.#state !== 'handshaking') return true;
    return this.#outbox.push(line);
  }

  evictSlowReader(): void {
    if (this.#state === 'closed') return;
    this.#context.stats.slowReaderDisconnects++;
    this.#logger.warn(
      { pendingBytes: this.#outbox.pendingBytes, limit: this.#context.limits.maxPendingOutputBytes },
      'slow reader disconnected',
    );
    this.#closeReason = 'slow_reader';
    this.#socket.destroy();
    this.#finish();
  }

  /** The server is shutting down: tell this client, flush, close. The room is already closed (silent leaves). */
  shutdown(): void {
    this.#closeWith(SHUTTING_DOWN_LINE, 'shutdown');
  }

  /** Closes at once, without a word (the shutdown grace period is over). */
  destroy(): void {
    this.#socket.destroy();
    this.#finish();
  }

  #onData(chunk: Buffer): void {
    if (this.#state !== 'handshaking' && this.#state !== 'member') return;
    this.#context.stats.bytesReceived += chunk.length;
    const items = this.#decoder.push(chunk);
    for (let i = 0; i < items.length; i++) {
      // A line may end the connection (refusal, too long): the rest of the chunk is not processed.
      if (this.#state !== 'handshaking' && this.#state !== 'member') return;
      const item = items[i]!;
      if (typeof item === 'string') this.#onLine(item);
      else this.#onFramingError(item);
    }
  }

  #onLine(line: string): void {
    const parsed = parseClientMessage(line);
    if (parsed.ok) {
      this.#onMessage(parsed.message);
    } else {
      this.#onUnparsable(line, parsed.error);
    }
  }

  #onMessage(message: ClientMessage): void {
    if (message.type === 'message') {
      if (this.#state === 'member') this.#context.room.relay(this, message.message, message.encrypted);
      else this.#ignore('chat_before_handshake');
    } else if (this.#state === 'member') {
      this.#ignore('second_handshake');
    } else {
      this.#onHandshake(message);
    }
  }

  #onUnparsable(line: string, error: MessageError): void {
    const kind = this.#unparsableKind(line, error);
    if (kind !== 'invalid_handshake') {
      this.#ignore(kind);
      return;
    }
    this.#refuse(
      'invalid_handshake',
      invalidHandshakeText(error) ?? authErrors.invalidHandshake(error.message),
    );
  }

  /** What a refused line was; only a malformed handshake before joining is answered (and refused). */
  #unparsableKind(line: string, error: MessageError): BadInputKind | 'invalid_handshake' {
    if (error.code === 'ECP_INVALID_JSON') return 'invalid_json';
    if (error.code === 'ECP_NOT_AN_OBJECT') return 'not_an_object';
    if (error.code === 'ECP_UNKNOWN_TYPE' || error.field === 'type') return 'unknown_type';
    // A known type with a missing or wrongly typed field: which type decides the answer.
    if (peekType(line) === 'handshake') {
      return this.#state === 'handshaking' ? 'invalid_handshake' : 'second_handshake';
    }
    return this.#state === 'member' ? 'invalid_chat' : 'chat_before_handshake';
  }

  #onHandshake(message: HandshakeMessage): void {
    const context = this.#context;
    const verdict = checkHandshake(message, {
      password: context.password,
      maxUsernameLength: context.limits.maxUsernameLength,
      isNameTaken: (name) => context.room.has(name),
    });
    if (!verdict.ok) {
      if (verdict.reason === 'username_taken') {
        context.stats.handshakeFailures.username_taken++;
        this.#logger.info({ reason: verdict.reason, username: message.username }, 'handshake refused');
        this.deliver(encodeLine({ type: 'system', message: verdict.notice }));
      } else {
        this.#refuse(verdict.reason, verdict.authError);
      }
      return;
    }
    // The room delivers to us (and could even evict us) while admitting us, so be a member already.
    this.username = verdict.username;
    this.#state = 'member';
    try {
      context.room.join(this, verdict.publicKey);
    } catch {
      // The key passed every check yet cannot wrap the room key: refuse it like any unusable key.
      this.#state = 'handshaking';
      this.username = '';
      this.#refuse('invalid_public_key', authErrors.invalidPublicKey('cannot encrypt the room key with it'));
      return;
    }
    clearTimeout(this.#handshakeTimer);
    if ((this.#state as SessionState) === 'member') {
      this.#logger.info({ username: this.username, users: context.room.size }, 'joined');
    }
  }

  #onFramingError(error: FramingError): void {
    if (error.code === 'ECP_INVALID_UTF8') {
      this.#ignore('invalid_utf8');
      return;
    }
    this.#countBadInput('line_too_long');
    const limit = this.#context.limits.maxLineBytes;
    this.#closeWith(encodeLine({ type: 'system', message: notices.lineTooLong(limit) }), 'line_too_long');
  }

  #onHandshakeTimeout(): void {
    if (this.#state === 'handshaking') this.#refuse('handshake_timeout', authErrors.handshakeTimeout);
  }

  #refuse(reason: HandshakeFailureReason, authError: string): void {
    this.#context.stats.handshakeFailures[reason]++;
    this.#logger.info({ reason }, 'handshake refused');
    this.#closeDetail = reason;
    this.#closeWith(encodeLine({ type: 'auth_error', message: authError }), 'refused');
  }

  /** Says a last line, flushes and half-closes; the peer gets `closeGraceMs` to read it. */
  #closeWith(lastLine: Buffer, reason: CloseReason): void {
    if (this.#state !== 'handshaking' && this.#state !== 'member') return;
    this.#closeReason = reason;
    this.#leaveRoom();
    this.#state = 'closing';
    clearTimeout(this.#handshakeTimer);
    const socket = this.#socket;
    if (!this.#outbox.push(lastLine)) {
      // Too far behind to take even this line: it is not reading.
      socket.destroy();
      this.#finish();
      return;
    }
    this.#outbox.flush();
    socket.end();
    this.#graceTimer = setTimeout(() => socket.destroy(), this.#context.closeGraceMs);
    this.#graceTimer.unref();
  }

  /** The peer half-closed: it will send nothing more, so it leaves; what we owe it still goes out. */
  #onEnd(): void {
    if (this.#state !== 'handshaking' && this.#state !== 'member') return;
    this.#closeReason = 'client_closed';
    this.#leaveRoom();
    this.#state = 'closing';
    clearTimeout(this.#handshakeTimer);
    this.#outbox.flush();
    this.#socket.end();
  }

  #onError(error: NodeJS.ErrnoException): void {
    // ECONNRESET and EPIPE are how clients vanish; 'close' follows and does the cleanup.
    this.#closeReason ??= 'connection_error';
    this.#closeDetail ??= error.code ?? error.message;
    this.#logger.debug({ err: error.code ?? error.message }, 'connection error');
  }

  #leaveRoom(): void {
    if (this.#state === 'member') this.#context.room.leave(this);
  }

  /** The one way out: runs once, whatever ended the connection. */
  #finish(): void {
    if (this.#state === 'closed') return;
    const wasMember = this.#state === 'member';
    this.#leaveRoom();
    this.#state = 'closed';
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#graceTimer);
    this.#outbox.discard();
    this.#decoder.reset();
    const fields: Record<string, unknown> = {
      reason: this.#closeReason ?? 'client_closed',
      durationMs: Date.now() - this.#openedAt,
    };
    if (this.#closeDetail !== undefined) fields.detail = this.#closeDetail;
    if (this.username !== '') fields.username = this.username;
    if (this.#badInput !== undefined) fields.badInput = this.#badInput;
    this.#logger.info(fields, wasMember || this.username !== '' ? 'left' : 'connection closed');
    this.#onClosed(this);
  }

  #ignore(kind: BadInputKind): void {
    this.#countBadInput(kind);
  }

  /** Counts bad input; logs only the first of each kind per connection, so a flood cannot flood the log. */
  #countBadInput(kind: BadInputKind): void {
    this.#context.stats.badInput[kind]++;
    this.#badInput ??= {};
    const seen = this.#badInput[kind] ?? 0;
    this.#badInput[kind] = seen + 1;
    if (seen === 0) this.#logger.warn({ kind, state: this.#state }, 'bad input');
  }
}

function peekType(line: string): unknown {
  try {
    return (JSON.parse(line) as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}
