/**
 * A test client that works at the level of raw lines, so scenarios can send anything, including
 * malformed input, and see exactly what the server sends back. Its connection reports framing
 * exactly (blank lines, bytes that are not UTF-8, a last line without its line feed, frames that
 * are not one message) rather than leniently as a real client's does. Over any transport: a
 * "line" is a line on a byte stream and a text frame on WebSocket.
 */
import {
  ClientJoin,
  Fernet,
  type FramingError,
  openText,
  parseServerMessage,
  type RsaKeyPair,
  type ServerMessage,
  sealText,
  unwrapRoomKey,
} from '../../protocol/index.ts';
import {
  type CloseInfo,
  type Connection,
  type ConnectOptions,
  connect,
  type Endpoint,
  formatEndpoint,
  rawAccess,
} from '../../transport/index.ts';
import { quoteShort, type WireLog } from './wire-log.ts';

/** The kit reads whatever the server sends, however long: its own limit is far above any server's. */
const MAX_RECEIVED_LINE_BYTES = 64 * 1024 * 1024;

export interface ReceivedLine {
  /** Position among every line received by every client of the scenario, to compare order across clients. */
  order: number;
  /** Position among this client's lines. */
  index: number;
  atMs: number;
  /** The line as text (with U+FFFD where it was not valid UTF-8), without its line feed. */
  text: string;
  validUtf8: boolean;
  /** False for a last line the server never ended with a line feed before closing. */
  terminated: boolean;
  /** The parsed JSON value, when the line is JSON. */
  json?: unknown;
  /** The typed message, when the line is a valid v1 server message. */
  message?: ServerMessage;
  /** Why the line is not a valid v1 server message. */
  problem?: string;
  /** For an encrypted chat payload this client could open: the text. */
  decrypted?: string;
}

export interface WireClientOptions {
  endpoint: Endpoint;
  /** How to trust a TLS server. */
  connectOptions: ConnectOptions;
  /** What scenarios call the client: `alice`. */
  label: string;
  /** The name it asks for: unique per scenario, e.g. `alice_k3x_12`. */
  username: string;
  /** The server's password, so the transcript can say whether a redacted password was the right one. */
  serverPassword: string;
  log: WireLog;
  /** Shared by the clients of a scenario: hands out `ReceivedLine.order`. */
  nextOrder: () => number;
  startedAt: number;
  connectTimeoutMs: number;
}

type Waiter = () => void;

export class WireClient {
  readonly label: string;
  readonly username: string;
  readonly log: WireLog;
  readonly lines: ReceivedLine[] = [];
  /** The key pair used in this client's handshakes. */
  keys: RsaKeyPair | undefined;
  /** The join under way or decided since the last handshake this client sent (the protocol's state machine). */
  join: ClientJoin | undefined;
  /** The room key, once a `key_exchange` was received and could be decrypted. */
  roomKey: Fernet | undefined;
  /** Why the last `key_exchange` could not be decrypted. */
  roomKeyProblem: string | undefined;
  /** Set once the connection has ended, with how. */
  ended: { atMs: number; how: string } | undefined;
  /** The WebSocket close code the connection ended with; undefined on byte streams or while open. */
  closeCode: number | undefined;
  /** What the server sent that is not a message (a binary frame, two lines in one frame, ...). */
  readonly framingViolations: string[] = [];
  /** When the connection was established, on the scenario clock (ms). */
  readonly connectedAtMs: number;
  /** The usernames this client has asked for in handshakes, oldest first. */
  readonly requestedNames: string[] = [];
  #cursor = 0;
  #stoppedReading = false;
  readonly #connection: Connection;
  readonly #options: WireClientOptions;
  readonly #waiters = new Set<Waiter>();

  private constructor(connection: Connection, options: WireClientOptions) {
    this.#connection = connection;
    this.#options = options;
    this.label = options.label;
    this.username = options.username;
    this.log = options.log;
    this.connectedAtMs = performance.now() - options.startedAt;
    connection.on('message', (text: string) => this.#addLine(text, true, true));
    connection.on('framingError', (error: FramingError, closing: boolean) =>
      this.#onFramingError(error, closing),
    );
    connection.on('end', () => this.#onEnd('the server closed the connection'));
    connection.on('close', (info: CloseInfo) => {
      this.closeCode = info.closeCode;
      this.#onEnd(describeClose(info));
    });
  }

  static async connect(options: WireClientOptions): Promise<WireClient> {
    const where = formatEndpoint(options.endpoint);
    try {
      const connection = await connect(options.endpoint, {
        ...options.connectOptions,
        timeoutMs: options.connectTimeoutMs,
        maxMessageBytes: MAX_RECEIVED_LINE_BYTES,
        exactFraming: true,
      });
      const subprotocol = connection.subprotocol ? ` (subprotocol ${connection.subprotocol})` : '';
      options.log.event(`connected to ${where}${subprotocol}`);
      return new WireClient(connection, options);
    } catch (error) {
      throw new Error(`could not connect to ${where}: ${(error as Error).message}`);
    }
  }

  /** Bytes received so far, framing included. */
  get bytesReceived(): number {
    return this.#connection.bytesReceived;
  }

  /** The WebSocket subprotocol the server selected ('' for none); undefined on byte streams. */
  get subprotocol(): string | undefined {
    return this.#connection.subprotocol;
  }

  /** Whether lines travel on a byte stream (raw writes possible) or as WebSocket frames. */
  get framing(): 'bytes' | 'frames' {
    return rawAccess(this.#connection).kind;
  }

  get isOpen(): boolean {
    return this.ended === undefined;
  }

  /** The lines not yet consumed by an expectation. */
  get unread(): readonly ReceivedLine[] {
    return this.lines.slice(this.#cursor);
  }

  get lastLine(): ReceivedLine | undefined {
    return this.lines.at(-1);
  }

  // --- sending -------------------------------------------------------------------------------

  /** Sends a text line; a line feed is added unless `terminator` says otherwise. */
  sendLine(text: string, terminator = '\n'): void {
    this.log.sent(this.#redact(text), this.#noteFor(text));
    this.#write(Buffer.from(text + terminator, 'utf8'));
  }

  /** Sends a message object as compact JSON. */
  send(message: Record<string, unknown>): void {
    this.sendLine(JSON.stringify(message));
  }

  /**
   * Sends raw bytes (garbage, invalid UTF-8, partial lines, many lines in one write) on a byte
   * stream; over WebSocket each line of them goes in a text frame of its own. `description` goes
   * to the transcript.
   */
  sendBytes(bytes: Uint8Array, description: string): void {
    this.log.sent(description);
    this.#write(bytes);
  }

  /** Sends one WebSocket frame as it is (binary, oversize, two lines in one); WebSocket only. */
  sendFrame(data: string | Buffer, binary: boolean, description: string): void {
    const raw = rawAccess(this.#connection);
    if (raw.kind !== 'frames') throw new Error('sendFrame needs a WebSocket connection');
    this.log.sent(description);
    if (!this.isOpen || !this.#connection.writable) {
      this.log.event('(not sent: the connection is closed)');
      return;
    }
    raw.send(data, { binary });
  }

  /**
   * Sends bytes in pieces of `pieceSize` bytes, each in its own write, waiting between writes. Over
   * WebSocket, where a message is one frame, the text goes whole.
   */
  async sendInPieces(text: string, pieceSize: number, description: string): Promise<void> {
    this.log.sent(this.#redact(text.replace(/\n$/, '')), `${description}`);
    const bytes = Buffer.from(text, 'utf8');
    if (this.framing === 'frames') {
      this.#write(bytes);
      return;
    }
    for (let offset = 0; offset < bytes.length; offset += pieceSize) {
      this.#write(bytes.subarray(offset, offset + pieceSize));
      // A macrotask between writes, so each piece leaves in its own TCP segment.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The handshake fields for this client with the given overrides. */
  handshakeFields(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      type: 'handshake',
      username: this.username,
      server_password: this.#options.serverPassword,
      public_key: this.keys?.publicKeyPem,
      ...overrides,
    };
  }

  /** A handshake is on its way: what follows is judged by a fresh join state machine. */
  beginJoin(): void {
    this.join = new ClientJoin(this.keys === undefined ? {} : { privateKey: this.keys.privateKey });
  }

  /** Seals a text with the room key (the v1 double encoding). */
  seal(text: string): string {
    if (!this.roomKey) throw new Error(`${this.label} holds no room key to encrypt with`);
    return sealText(this.roomKey, text);
  }

  // --- reading -------------------------------------------------------------------------------

  /** False once the client has stopped reading (a slow reader). */
  get reading(): boolean {
    return !this.#stoppedReading;
  }

  /** Stops reading from the connection (a slow reader); the server's writes then back up. */
  pauseReading(): void {
    this.log.event('stopped reading');
    this.#stoppedReading = true;
    this.#connection.pause();
  }

  /**
   * Reads no faster than `bytesPerSecond`: after what one read brought, it stops reading for as
   * long as those bytes take at that rate. A healthy reader that is slower than the fastest sender.
   */
  readAtRate(bytesPerSecond: number): void {
    this.log.event(`reading at most ${(bytesPerSecond / 1e6).toFixed(1)} MB/s`);
    let owed = 0;
    let sleeping = false;
    const wake = () => {
      if (owed > 0) {
        const ms = (owed / bytesPerSecond) * 1000;
        owed = 0;
        setTimeout(wake, ms);
        return;
      }
      sleeping = false;
      if (!this.#stoppedReading) this.#connection.resume();
    };
    this.#connection.on('message', (text: string) => {
      if (this.#stoppedReading) return;
      owed += Buffer.byteLength(text) + 1;
      if (sleeping) return;
      sleeping = true;
      this.#connection.pause();
      // The rest of this read arrives first; then the sleep covers all of it.
      setImmediate(wake);
    });
  }

  /**
   * Waits for the first unread line that matches, and consumes every line up to it. Resolves
   * undefined when `timeoutMs` passes or the connection ends first.
   */
  async next(match: (line: ReceivedLine) => boolean, timeoutMs: number): Promise<ReceivedLine | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (let index = this.#cursor; index < this.lines.length; index += 1) {
        const line = this.lines[index]!;
        if (match(line)) {
          this.#cursor = index + 1;
          return line;
        }
      }
      if (!this.isOpen) return undefined;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      await this.#changed(remaining);
    }
  }

  /** Waits until at least `count` lines are unread, or the time is up or the connection ends. */
  async waitForUnread(count: number, timeoutMs: number): Promise<readonly ReceivedLine[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.unread.length < count && this.isOpen) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      await this.#changed(remaining);
    }
    return this.unread;
  }

  /** Resolves true once `condition()` holds (checked on every change), false after `timeoutMs`. */
  async waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - performance.now();
      if (remaining <= 0 || !this.isOpen) return condition();
      await this.#changed(remaining);
    }
    return true;
  }

  /** Marks every line up to and including `line` as read; returns it. */
  readPast(line: ReceivedLine): ReceivedLine {
    this.#cursor = Math.max(this.#cursor, line.index + 1);
    return line;
  }

  /** Marks `count` unread lines as read. */
  consume(count: number): void {
    this.#cursor = Math.min(this.lines.length, this.#cursor + count);
  }

  /** Resolves true once the connection has ended, false if it is still open after `timeoutMs`. */
  async waitForEnd(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.isOpen) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      await this.#changed(remaining);
    }
    return true;
  }

  // --- closing -------------------------------------------------------------------------------

  /** Closes gracefully (FIN, or a WebSocket close) and waits, at most `timeoutMs`, for the server to close its side. */
  async leave(timeoutMs: number): Promise<void> {
    if (!this.isOpen) return;
    this.log.event('closing the connection');
    this.#connection.end();
    this.#connection.resume();
    if (!(await this.waitForEnd(timeoutMs))) this.#connection.destroy();
  }

  /** Ends the connection abruptly: a TCP reset on a byte stream, a dropped socket on WebSocket. */
  reset(): void {
    const raw = rawAccess(this.#connection);
    if (raw.kind === 'bytes') {
      this.log.event('resetting the connection (RST)');
      raw.reset();
    } else {
      this.log.event('dropping the connection without a close frame');
      this.#connection.destroy();
    }
  }

  destroy(): void {
    this.#connection.destroy();
  }

  // --- internals -----------------------------------------------------------------------------

  #write(bytes: Uint8Array): void {
    if (!this.#connection.writable) {
      this.log.event('(not sent: the connection is closed)');
      return;
    }
    const raw = rawAccess(this.#connection);
    if (raw.kind === 'bytes') {
      raw.write(bytes);
      return;
    }
    // A frame per line: what is one write on a byte stream is several messages here.
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf(0x0a, start);
      const end = newline === -1 ? text.length : newline;
      raw.send(text.subarray(start, end), { binary: false });
      start = end + 1;
    }
  }

  #onFramingError(error: FramingError, closing: boolean): void {
    if (error.code === 'ECP_INVALID_UTF8' && error.bytes !== undefined) {
      this.#addLine(error.bytes.toString('utf8'), false, true);
    } else if (error.code === 'ECP_UNTERMINATED_LINE' && error.bytes !== undefined) {
      const text = error.bytes.toString('utf8');
      this.#addLine(text, Buffer.from(text, 'utf8').equals(error.bytes), false);
    } else {
      this.framingViolations.push(error.message);
      this.log.event(`the server sent what is not a message: ${error.message}${closing ? '; closing' : ''}`);
      this.#notify();
    }
  }

  #onEnd(how: string): void {
    if (this.ended) return;
    this.ended = { atMs: performance.now() - this.#options.startedAt, how };
    this.log.event(how);
    this.#notify();
  }

  #addLine(text: string, validUtf8: boolean, terminated: boolean): void {
    const line: ReceivedLine = {
      order: this.#options.nextOrder(),
      index: this.lines.length,
      atMs: performance.now() - this.#options.startedAt,
      text,
      validUtf8,
      terminated,
    };
    this.#classify(line);
    this.lines.push(line);
    const notes = [
      line.decrypted !== undefined ? `decrypted: ${quoteShort(line.decrypted)}` : undefined,
      !validUtf8 ? 'not valid UTF-8' : undefined,
      !terminated ? 'no line feed before the connection ended' : undefined,
      line.problem && validUtf8 ? `not a valid v1 message: ${line.problem}` : undefined,
    ].filter(Boolean);
    this.log.received(text, notes.length > 0 ? notes.join('; ') : undefined);
    this.#notify();
  }

  #classify(line: ReceivedLine): void {
    if (line.text.trim() === '') {
      line.problem = 'blank line';
      return;
    }
    try {
      line.json = JSON.parse(line.text) as unknown;
    } catch {
      line.problem = 'not JSON';
      return;
    }
    const parsed = parseServerMessage(line.text);
    if (!parsed.ok) {
      line.problem = parsed.error.message;
      return;
    }
    line.message = parsed.message;
    this.join?.receive(parsed.message);
    if (parsed.message.type === 'key_exchange') this.#takeRoomKey(parsed.message.encrypted_key);
    if (parsed.message.type === 'message' && parsed.message.encrypted && this.roomKey) {
      try {
        line.decrypted = openText(this.roomKey, parsed.message.message);
      } catch {
        // Not a sealed text under our key; scenarios that care say so.
      }
    }
  }

  #takeRoomKey(encryptedKey: string): void {
    if (!this.keys) return;
    try {
      this.roomKey = new Fernet(unwrapRoomKey(encryptedKey, this.keys.privateKey));
      this.roomKeyProblem = undefined;
    } catch (error) {
      this.roomKey = undefined;
      this.roomKeyProblem = (error as Error).message;
    }
  }

  /** Passwords never appear in transcripts; the note says whether it was the right one. */
  #redact(text: string): string {
    return text.replace(
      /("server_password"\s*:\s*)("(?:[^"\\]|\\.)*")/g,
      (_all, key: string, value: string) => {
        let password: unknown;
        try {
          password = JSON.parse(value);
        } catch {
          password = undefined;
        }
        const which = password === this.#options.serverPassword ? 'the server password' : 'a wrong password';
        return `${key}"<redacted: ${which}>"`;
      },
    );
  }

  #noteFor(text: string): string | undefined {
    if (!this.roomKey) return undefined;
    try {
      const value = JSON.parse(text) as { type?: unknown; message?: unknown; encrypted?: unknown };
      if (value.type === 'message' && value.encrypted === true && typeof value.message === 'string') {
        return `encrypted text: ${quoteShort(openText(this.roomKey, value.message))}`;
      }
    } catch {
      // Not a sealed chat message: nothing to add.
    }
    return undefined;
  }

  #changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  #notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }
}

/** How a connection ended, for the transcript: a WebSocket close code, or the socket's error. */
function describeClose(info: CloseInfo): string {
  if (info.closeCode !== undefined) {
    return `the connection closed (WebSocket close code ${info.closeCode}${info.closeReason ? `: ${info.closeReason}` : ''})`;
  }
  if (info.error !== undefined) return `connection error ${info.error.code ?? info.error.message}`;
  return 'the connection closed';
}
