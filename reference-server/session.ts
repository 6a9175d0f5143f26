/**
 * One connection: messages in from the transport, the handshake state machine and its timer,
 * chat into the room, and output through an Outbox. Every way a connection ends goes through
 * one place (#finish), so the room hears about each leave exactly once. Which transport carries
 * the connection is not this file's business.
 *
 * Input goes through an InputGate (flow-control.ts): a message the gate does not admit yet is
 * kept, with the few that arrive behind it, and the connection is paused until the gate resumes
 * it. So what is kept is at most the rest of one network read (plus the line the decoder holds).
 */
import {
  authErrors,
  type ClientMessage,
  type FramingError,
  type HandshakeMessage,
  type Limits,
  type MessageError,
  notices,
  parseClientMessage,
} from '../protocol/index.ts';
import type { CloseInfo, Connection, EndReason } from '../transport/index.ts';
import type { FlowControl, InputGate } from './flow-control.ts';
import { checkHandshake, invalidHandshakeText } from './handshake.ts';
import { encodeLine } from './line-encoder.ts';
import type { Logger } from './logger.ts';
import { type FlushQueue, Outbox } from './outbox.ts';
import type { PasswordCheck } from './password.ts';
import type { RoomMember } from './room.ts';
import type { Admission, RoomService } from './room-service.ts';
import type { BadInputKind, HandshakeFailureReason, ServerStats, SlowReaderRule } from './stats.ts';

/** What every session of one server shares. */
export interface SessionContext {
  room: RoomService;
  limits: Readonly<Limits>;
  password: PasswordCheck;
  flushQueue: FlushQueue;
  flow: FlowControl;
  /** Flood control: messages a connection may send per second, and how many it may save up. Off when undefined. */
  rateLimit?: { perSecond: number; burst: number } | undefined;
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
  | 'bad_framing'
  | 'shutdown'
  /** An operator disconnected the member (the admin API's kick). */
  | 'kicked'
  /** The room no longer counts this member (a cluster removed it) and said so. */
  | 'removed';

const SHUTTING_DOWN_LINE = encodeLine({ type: 'system', message: notices.shuttingDown });

/** How each framing problem is counted and logged. */
const FRAMING_KINDS: Record<FramingError['code'], BadInputKind> = {
  ECP_LINE_TOO_LONG: 'line_too_long',
  ECP_INVALID_UTF8: 'invalid_utf8',
  ECP_UNTERMINATED_LINE: 'invalid_framing',
  ECP_BINARY_FRAME: 'invalid_framing',
  ECP_SEVERAL_MESSAGES: 'invalid_framing',
  ECP_WRONG_TRANSPORT: 'wrong_transport',
};

export class Session implements RoomMember {
  readonly id: number;
  /** Set when the handshake is accepted; empty before. */
  username = '';
  readonly #connection: Connection;
  readonly #context: SessionContext;
  readonly #outbox: Outbox;
  readonly #gate: InputGate;
  /** Messages received but not processed yet: the gate said wait. The connection is paused meanwhile. */
  #held: string[] | undefined;
  #heldFrom = 0;
  /** The room is deciding on our join (a cluster asks Redis): input waits, held, until it has. */
  #admitting = false;
  readonly #logger: Logger;
  readonly #onClosed: (session: Session) => void;
  readonly #openedAt = Date.now();
  #state: SessionState = 'handshaking';
  #closeReason: CloseReason | undefined;
  #closeDetail: string | undefined;
  #bytesCounted = 0;
  /** The WebSocket close code the connection ended with, for the log. */
  #closeCode: number | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  /** Bad input seen on this connection, by kind: the first is logged, the rest only counted. */
  #badInput: Partial<Record<BadInputKind, number>> | undefined;

  constructor(
    connection: Connection,
    id: number,
    context: SessionContext,
    onClosed: (session: Session) => void,
  ) {
    this.id = id;
    this.#connection = connection;
    this.#context = context;
    this.#onClosed = onClosed;
    this.#outbox = new Outbox(connection, {
      flushQueue: context.flushQueue,
      maxPendingBytes: context.limits.maxPendingOutputBytes,
      stats: context.stats,
      flow: context.flow,
      onTimeout: (stalledMs) => this.evictSlowReader('timeout', stalledMs),
    });
    this.#gate = context.flow.gate(() => this.#resumeInput(), context.rateLimit);
    this.#logger = context.logger.child({
      conn: id,
      remote: connection.peer,
      transport: connection.transport,
    });
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The peer's IP address. */
  get remoteAddress(): string {
    return this.#connection.remoteAddress;
  }

  /** Output not yet taken by the kernel. */
  get pendingOutputBytes(): number {
    return this.#outbox.pendingBytes;
  }

  /** The transport's name (tcp, tls, ws, wss) and the peer's address, as logged. */
  get transport(): string {
    return this.#connection.transport;
  }

  get peer(): string {
    return this.#connection.peer;
  }

  /** When the connection was accepted, in ms since the epoch. */
  get openedAt(): number {
    return this.#openedAt;
  }

  /**
   * An operator disconnects this member: a `system` notice saying why, flush, close; the room sends
   * the others the usual leave sequence. False when this connection is not a member (any more).
   */
  kick(notice: string): boolean {
    if (this.#state !== 'member') return false;
    this.#closeWith(encodeLine({ type: 'system', message: notice }), 'kicked', 'policy');
    return true;
  }

  /** Wires the connection and starts the handshake timer. */
  start(): void {
    const connection = this.#connection;
    connection.on('message', (text: string) => this.#onText(text));
    connection.on('framingError', (error: FramingError, closing: boolean) =>
      this.#onFramingError(error, closing),
    );
    connection.on('end', () => this.#onEnd());
    connection.on('close', (info: CloseInfo) => this.#onClose(info));
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

  /**
   * Disconnects a slow reader: its output has not drained for the slow-reader timeout (`timeout`),
   * or would pass the cap (`cap`). The log line and the metric say which.
   */
  evictSlowReader(rule: SlowReaderRule, stalledMs?: number): void {
    if (this.#state === 'closed') return;
    const limits = this.#context.limits;
    this.#context.stats.slowReaderDisconnects[rule]++;
    this.#logger.warn(
      {
        rule,
        username: this.username || undefined,
        pendingBytes: this.#outbox.pendingBytes,
        ...(rule === 'cap'
          ? { limit: limits.maxPendingOutputBytes }
          : { stalledMs: Math.round(stalledMs ?? 0), timeoutMs: limits.slowReaderTimeoutMs }),
      },
      'slow reader disconnected',
    );
    this.#closeReason = 'slow_reader';
    this.#closeDetail = rule;
    this.#connection.destroy();
    this.#finish();
  }

  /** The room no longer counts this member: its last line, then close. */
  dismiss(lastLine: Buffer): void {
    this.#closeWith(lastLine, 'removed', 'going_away');
  }

  /** The server is shutting down: tell this client, flush, close. The room is already closed (silent leaves). */
  shutdown(): void {
    this.#closeWith(SHUTTING_DOWN_LINE, 'shutdown', 'going_away');
  }

  /** Closes at once, without a word (the shutdown grace period is over). */
  destroy(): void {
    this.#connection.destroy();
    this.#finish();
  }

  #onText(line: string): void {
    // A message may have ended the connection (refusal, too long): what follows is not processed.
    if (this.#state !== 'handshaking' && this.#state !== 'member') return;
    if (this.#held !== undefined) {
      // Behind a message that waits: keep the order.
      this.#held.push(line);
      return;
    }
    if (!this.#gate.admit(line.length)) {
      this.#held = [line];
      this.#heldFrom = 0;
      this.#connection.pause();
      return;
    }
    this.#process(line);
  }

  /** The gate lets input go on: the messages kept first, then the connection again. */
  #resumeInput(): void {
    if (this.#admitting) return;
    const held = this.#held;
    if (held !== undefined) {
      while (this.#heldFrom < held.length) {
        if (this.#state !== 'handshaking' && this.#state !== 'member') return;
        if (this.#admitting) return;
        const line = held[this.#heldFrom]!;
        if (!this.#gate.admit(line.length)) return;
        held[this.#heldFrom++] = '';
        this.#process(line);
      }
      this.#held = undefined;
    }
    if (this.#state === 'handshaking' || this.#state === 'member') this.#connection.resume();
  }

  #process(line: string): void {
    this.#countReceived();
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
    let admission: boolean | Promise<Admission>;
    try {
      admission = context.room.join(this, verdict.publicKey);
    } catch {
      // The key passed every check yet cannot wrap the room key: refuse it like any unusable key.
      this.#state = 'handshaking';
      this.username = '';
      this.#refuse('invalid_public_key', authErrors.invalidPublicKey('cannot encrypt the room key with it'));
      return;
    }
    if (typeof admission === 'boolean') this.#joined();
    else this.#awaitAdmission(admission);
  }

  #joined(): void {
    clearTimeout(this.#handshakeTimer);
    if (this.#state === 'member') {
      this.#logger.info({ username: this.username, users: this.#context.room.size }, 'joined');
    }
  }

  /**
   * A clustered room answers once the name is reserved cluster-wide. Meanwhile lines are held
   * (the connection paused), and processed in order once the answer is in.
   */
  #awaitAdmission(admission: Promise<Admission>): void {
    this.#admitting = true;
    if (this.#held === undefined) {
      this.#held = [];
      this.#heldFrom = 0;
    }
    this.#connection.pause();
    void admission.then((outcome) => {
      this.#admitting = false;
      if (this.#state !== 'member') return;
      if (outcome === 'admitted') {
        this.#joined();
      } else {
        const context = this.#context;
        this.#state = 'handshaking';
        const name = this.username;
        this.username = '';
        if (outcome === 'room_unavailable') {
          this.#refuse('room_unavailable', authErrors.roomUnavailable);
          return;
        }
        if (Date.now() - this.#openedAt >= context.limits.handshakeTimeoutMs) {
          // The handshake timer fired while we were waiting for the cluster.
          this.#refuse('handshake_timeout', authErrors.handshakeTimeout);
          return;
        }
        context.stats.handshakeFailures.username_taken++;
        this.#logger.info({ reason: 'username_taken', username: name }, 'handshake refused');
        this.deliver(encodeLine({ type: 'system', message: notices.usernameTaken }));
      }
      this.#resumeInput();
    });
  }

  /**
   * Input that is not a message. On a byte stream only an over-long line ends the connection (with
   * a notice); when the transport is closing the connection itself (a WebSocket close code, another
   * transport's handshake), the session only records why.
   */
  #onFramingError(error: FramingError, closing: boolean): void {
    if (this.#state !== 'handshaking' && this.#state !== 'member') return;
    const kind = FRAMING_KINDS[error.code];
    if (closing) {
      this.#countBadInput(kind);
      this.#closeReason = kind === 'line_too_long' ? 'line_too_long' : 'bad_framing';
      this.#closeDetail = error.code;
      this.#leaveRoom();
      this.#state = 'closing';
      clearTimeout(this.#handshakeTimer);
      return;
    }
    if (kind !== 'line_too_long') {
      this.#ignore(kind);
      return;
    }
    this.#countBadInput('line_too_long');
    const limit = this.#context.limits.maxLineBytes;
    this.#closeWith(
      encodeLine({ type: 'system', message: notices.lineTooLong(limit) }),
      'line_too_long',
      'too_big',
    );
  }

  #onHandshakeTimeout(): void {
    if (this.#state === 'handshaking') this.#refuse('handshake_timeout', authErrors.handshakeTimeout);
  }

  #refuse(reason: HandshakeFailureReason, authError: string): void {
    this.#context.stats.handshakeFailures[reason]++;
    this.#logger.info({ reason }, 'handshake refused');
    this.#closeDetail = reason;
    this.#closeWith(encodeLine({ type: 'auth_error', message: authError }), 'refused', 'policy');
  }

  /** Says a last line, flushes and closes gracefully; the peer gets `closeGraceMs` to read it. */
  #closeWith(lastLine: Buffer, reason: CloseReason, how: EndReason = 'normal'): void {
    if (this.#state !== 'handshaking' && this.#state !== 'member') return;
    this.#closeReason = reason;
    this.#leaveRoom();
    this.#state = 'closing';
    clearTimeout(this.#handshakeTimer);
    const connection = this.#connection;
    if (!this.#outbox.push(lastLine)) {
      // Too far behind to take even this line: it is not reading.
      connection.destroy();
      this.#finish();
      return;
    }
    this.#outbox.flush();
    connection.end(how);
    this.#graceTimer = setTimeout(() => connection.destroy(), this.#context.closeGraceMs);
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
    this.#connection.end();
  }

  /** Adds what the connection has received since the last count to the server's total. */
  #countReceived(): void {
    const total = this.#connection.bytesReceived;
    this.#context.stats.bytesReceived += total - this.#bytesCounted;
    this.#bytesCounted = total;
  }

  #onClose(info: CloseInfo): void {
    this.#countReceived();
    // ECONNRESET and EPIPE are how clients vanish.
    if (info.error !== undefined) {
      this.#closeReason ??= 'connection_error';
      this.#closeDetail ??= info.error.code ?? info.error.message;
    }
    if (info.closeCode !== undefined && this.#state !== 'closed') this.#closeCode = info.closeCode;
    this.#finish();
  }

  /** Leaves the room (if a member); the room no longer waits for this connection's output. */
  #leaveRoom(): void {
    if (this.#state === 'member') this.#context.room.leave(this);
    this.#outbox.untrack();
    this.#gate.close();
    this.#held = undefined;
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
    const fields: Record<string, unknown> = {
      reason: this.#closeReason ?? 'client_closed',
      durationMs: Date.now() - this.#openedAt,
    };
    if (this.#closeDetail !== undefined) fields.detail = this.#closeDetail;
    if (this.#closeCode !== undefined) fields.closeCode = this.#closeCode;
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
