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
  type RsaKeyPair,
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
} from '../../transport/index.ts';
import { currentTurn } from './event-loop-turn.ts';
import { LineInbox } from './line-inbox.ts';
import { RawWire } from './raw-wire.ts';
import { ReadPace } from './read-pace.ts';
import { classifyLine, jsonFieldOf, jsonTypeOf, type LineMatch, type ReceivedLine } from './received-line.ts';
import { describeClose, redactPasswords, sealedTextNote } from './transcript-notes.ts';
import { quoteShort, type WireLog } from './wire-log.ts';

/** The kit reads whatever the server sends, however long: its own limit is far above any server's. */
const MAX_RECEIVED_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Takes a received line before the client classifies it: returns the transcript's note when it
 * took the line, or undefined to leave it to the client.
 */
export type LineClaim = (text: string) => string | undefined;

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

export class WireClient {
  readonly label: string;
  readonly username: string;
  readonly log: WireLog;
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
  readonly #connection: Connection;
  readonly #wire: RawWire;
  readonly #pace: ReadPace;
  readonly #inbox = new LineInbox(() => this.isOpen);
  readonly #options: WireClientOptions;
  #claim: LineClaim | undefined;

  private constructor(connection: Connection, options: WireClientOptions) {
    this.#connection = connection;
    this.#wire = new RawWire(connection);
    this.#pace = new ReadPace(connection);
    this.#options = options;
    this.label = options.label;
    this.username = options.username;
    this.log = options.log;
    this.connectedAtMs = performance.now() - options.startedAt;
    connection.on('message', (text: string) => this.#receive(text));
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
    return this.#wire.framing;
  }

  get isOpen(): boolean {
    return this.ended === undefined;
  }

  /** Every line received, in order. */
  get lines(): readonly ReceivedLine[] {
    return this.#inbox.lines;
  }

  /** The lines not yet consumed by an expectation. */
  get unread(): readonly ReceivedLine[] {
    return this.#inbox.unread;
  }

  get lastLine(): ReceivedLine | undefined {
    return this.lines.at(-1);
  }

  // --- sending -------------------------------------------------------------------------------

  /** Sends a text line; a line feed is added unless `terminator` says otherwise. */
  sendLine(text: string, terminator = '\n'): void {
    this.log.sent(this.#redact(text), sealedTextNote(text, this.roomKey));
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
    if (this.framing !== 'frames') throw new Error('sendFrame needs a WebSocket connection');
    this.log.sent(description);
    if (!this.isOpen || !this.#connection.writable) {
      this.log.event('(not sent: the connection is closed)');
      return;
    }
    this.#wire.sendFrame(data, binary);
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
    return this.#pace.reading;
  }

  /** Stops reading from the connection (a slow reader); the server's writes then back up. */
  pauseReading(): void {
    this.log.event('stopped reading');
    this.#pace.stop();
  }

  /** Reads no faster than `bytesPerSecond`: a healthy reader that is slower than the fastest sender. */
  readAtRate(bytesPerSecond: number): void {
    this.log.event(`reading at most ${(bytesPerSecond / 1e6).toFixed(1)} MB/s`);
    this.#pace.limitTo(bytesPerSecond);
  }

  /**
   * Lets `claim` take each line as it arrives, until called again (undefined: none). A line it
   * takes goes to the transcript with its note and wakes every wait, but is neither classified,
   * decrypted nor kept: a load counts thousands of large lines this way at little cost to the kit,
   * whose stall the server would see as a member that stopped reading.
   */
  claimLines(claim: LineClaim | undefined): void {
    this.#claim = claim;
  }

  /**
   * Waits for the first unread line that matches, and consumes every line up to it. Resolves
   * undefined when `timeoutMs` passes or the connection ends first.
   */
  next(match: LineMatch, timeoutMs: number): Promise<ReceivedLine | undefined> {
    return this.#inbox.next(match, timeoutMs);
  }

  /** Waits until at least `count` lines are unread, or the time is up or the connection ends. */
  waitForUnread(count: number, timeoutMs: number): Promise<readonly ReceivedLine[]> {
    return this.#inbox.waitForUnread(count, timeoutMs);
  }

  /** Resolves true once `condition()` holds (checked on every change), false after `timeoutMs`. */
  waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.#inbox.waitUntil(condition, timeoutMs);
  }

  /** Marks every line up to and including `line` as read; returns it. */
  readPast(line: ReceivedLine): ReceivedLine {
    return this.#inbox.readPast(line);
  }

  /** Marks `count` unread lines as read. */
  consume(count: number): void {
    this.#inbox.consume(count);
  }

  /** Resolves true once the connection has ended, false if it is still open after `timeoutMs`. */
  waitForEnd(timeoutMs: number): Promise<boolean> {
    return this.#inbox.waitForEnd(timeoutMs);
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
    if (this.framing === 'bytes') {
      this.log.event('resetting the connection (RST)');
      this.#wire.reset();
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
    this.#wire.write(bytes);
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
      this.#inbox.changed();
    }
  }

  #onEnd(how: string): void {
    if (this.ended) return;
    this.ended = { atMs: performance.now() - this.#options.startedAt, how };
    this.log.event(how);
    this.#inbox.changed();
  }

  #receive(text: string): void {
    const note = this.#claim?.(text);
    if (note === undefined) {
      this.#addLine(text, true, true);
      return;
    }
    this.log.received(text, note);
    this.#inbox.changed();
  }

  #addLine(text: string, validUtf8: boolean, terminated: boolean): void {
    const line: ReceivedLine = {
      order: this.#options.nextOrder(),
      index: this.lines.length,
      turn: currentTurn(),
      atMs: performance.now() - this.#options.startedAt,
      text,
      validUtf8,
      terminated,
    };
    classifyLine(line);
    if (line.message) {
      this.join?.receive(line.message);
      if (line.message.type === 'key_exchange') this.#takeRoomKey(line.message.encrypted_key);
    }
    // Any chat-typed line, valid or not: a check that something never arrives must see a relayed
    // payload even when the server mangled the rest of the line (a null sender, say).
    const payload = jsonFieldOf(line, 'message');
    const sealed = line.message?.type !== 'message' || line.message.encrypted;
    if (jsonTypeOf(line) === 'message' && typeof payload === 'string' && sealed && this.roomKey) {
      try {
        line.decrypted = openText(this.roomKey, payload);
      } catch {
        // Not a sealed text under our key; scenarios that care say so.
      }
    }
    const notes = [
      line.decrypted !== undefined ? `decrypted: ${quoteShort(line.decrypted)}` : undefined,
      !validUtf8 ? 'not valid UTF-8' : undefined,
      !terminated ? 'no line feed before the connection ended' : undefined,
      line.problem && validUtf8 ? `not a valid v1 message: ${line.problem}` : undefined,
    ].filter(Boolean);
    // Logged before the waits wake, so a failure's transcript holds the line it is about.
    this.log.received(text, notes.length > 0 ? notes.join('; ') : undefined);
    this.#inbox.add(line);
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

  #redact(text: string): string {
    return redactPasswords(text, this.#options.serverPassword);
  }
}
