/**
 * One connection of a scripted peer, either side: it records every message the other side sends
 * and does exactly what its script says, including what no real client or server would (bytes
 * split at chosen points, bytes that are not UTF-8, stopping reading, a reset).
 */
import type { FramingError } from '../../protocol/index.ts';
import type { CloseInfo, Connection } from '../../transport/index.ts';
import { PeerError } from './errors.ts';
import { resetConnection, writeRaw, writeSplit } from './raw-bytes.ts';

/** A message as received: its JSON object, or `{ notJson: text }` for a line that is not one. */
// biome-ignore lint/suspicious/noExplicitAny: scripts inspect whatever the other side sends.
export type Received = Record<string, any>;

/** How long an expectation waits when the script does not say. */
export const DEFAULT_WAIT_MS = 5_000;

export interface PeerConnectionOptions {
  /** How `send` writes a message (without the line feed). Default JSON.stringify. */
  encode?: (message: object) => string;
  /**
   * End our side when the other side ends its own (a half-close), as a socket does by default.
   * Default true; false keeps the connection half-open until the script ends it.
   */
  endWhenPeerEnds?: boolean;
}

export class PeerConnection {
  readonly connection: Connection;
  /** Every message received so far, in order. */
  readonly received: Received[] = [];
  /** Input that was not a message (an over-long line, bytes that are not UTF-8, ...). */
  readonly framingErrors: FramingError[] = [];
  /** Resolves once the connection is fully closed, for whatever reason. */
  readonly whenClosed: Promise<CloseInfo>;
  readonly #encode: (message: object) => string;
  readonly #wakers = new Set<() => void>();
  #read = 0;
  #closed = false;

  constructor(connection: Connection, options: PeerConnectionOptions = {}) {
    this.connection = connection;
    this.#encode = options.encode ?? JSON.stringify;
    connection.on('message', (text) => {
      this.received.push(parse(text));
      this.#wake();
    });
    connection.on('framingError', (error) => this.framingErrors.push(error));
    if (options.endWhenPeerEnds ?? true) connection.on('end', () => connection.end());
    this.whenClosed = new Promise((resolve) =>
      connection.on('close', (info) => {
        this.#closed = true;
        this.#wake();
        resolve(info);
      }),
    );
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  // --- what the script sends -------------------------------------------------------------------

  /** Sends one message, encoded and framed as the transport frames messages. */
  send(message: object): void {
    this.connection.send(`${this.#encode(message)}\n`);
  }

  /** Sends one line of text as a message, whatever it holds (garbage, blank, not JSON). */
  sendLine(text: string): void {
    this.connection.send(`${text}\n`);
  }

  /** Writes bytes as they are, no framing added (on WebSocket: one text frame holding them). */
  sendRaw(data: string | Uint8Array): void {
    writeRaw(this.connection, data);
  }

  /** Writes bytes in pieces cut at the byte offsets `at`, `gapMs` apart; byte streams only. */
  sendSplit(data: string | Uint8Array, at: readonly number[], gapMs = 0): Promise<void> {
    return writeSplit(this.connection, data, at, gapMs);
  }

  // --- how the script reads and ends -----------------------------------------------------------

  /** Stops reading: what the other side sends stays in the operating system's buffers. */
  pause(): void {
    this.connection.pause();
  }

  resume(): void {
    this.connection.resume();
  }

  /**
   * Reads at `bytesPerSecond` from now on: after each read, stops reading for as long as that
   * read's size takes at this pace (a reader that keeps up at its own speed, never stopping).
   */
  readAtMost(bytesPerSecond: number): void {
    const connection = this.connection;
    let counted = connection.bytesReceived;
    let waiting = false;
    connection.on('message', () => {
      if (waiting) return;
      waiting = true;
      connection.pause();
      // Once the whole read has been handed over: its size is what the pause pays for.
      setImmediate(() => {
        const bytes = connection.bytesReceived - counted;
        counted = connection.bytesReceived;
        setTimeout(
          () => {
            waiting = false;
            connection.resume();
          },
          (bytes / bytesPerSecond) * 1000,
        );
      });
    });
  }

  /** Graceful: what is queued goes out, then the connection closes. */
  end(): void {
    this.connection.end();
  }

  /** Abrupt: closes now, dropping whatever is queued. */
  destroy(): void {
    this.connection.destroy();
  }

  /** Abrupt, with a TCP reset where the transport has one. */
  reset(): void {
    resetConnection(this.connection);
  }

  // --- what the script expects -----------------------------------------------------------------

  /** Messages received and not yet taken by next() or expect(). */
  unread(): Received[] {
    return this.received.slice(this.#read);
  }

  /** The next unread message; rejects after `timeoutMs`, or when the connection closes first. */
  async next(timeoutMs = DEFAULT_WAIT_MS): Promise<Received> {
    await this.#waitFor(() => this.received.length > this.#read, timeoutMs, 'a message');
    return this.received[this.#read++]!;
  }

  async nextN(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<Received[]> {
    const out: Received[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /**
   * The first unread message that `matches`, taking it and every unread message before it;
   * rejects after `timeoutMs`, or when the connection closes first.
   */
  async expect(
    matches: (message: Received) => boolean,
    timeoutMs = DEFAULT_WAIT_MS,
    what = 'a matching message',
  ): Promise<Received> {
    let found = -1;
    const search = (): boolean => {
      found = this.received.findIndex((message, index) => index >= this.#read && matches(message));
      return found !== -1;
    };
    await this.#waitFor(search, timeoutMs, what);
    this.#read = found + 1;
    return this.received[found]!;
  }

  /** Every unread message in turn, as it arrives, until the connection closes (a script's main loop). */
  async *messages(): AsyncGenerator<Received> {
    for (;;) {
      const more = await this.#waitFor(
        () => this.received.length > this.#read,
        undefined,
        'a message',
        false,
      );
      if (!more) return;
      yield this.received[this.#read++]!;
    }
  }

  /** Resolves when the connection has closed; rejects after `timeoutMs`. */
  async closed(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await this.#waitFor(() => this.#closed, timeoutMs, 'the connection to close');
  }

  /** Waits `ms` and checks that no unread message arrived meanwhile. */
  async expectSilence(ms = 150): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.received.length > this.#read) {
      throw new Error(`expected nothing, got ${JSON.stringify(this.unread())}`);
    }
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
  }

  /**
   * Resolves true once `done()` holds. When the connection closes first: rejects if `failOnClose`,
   * else resolves false. Rejects after `timeoutMs` (undefined: waits for as long as it takes).
   */
  #waitFor(
    done: () => boolean,
    timeoutMs: number | undefined,
    what: string,
    failOnClose = true,
  ): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: boolean | PeerError): void => {
        clearTimeout(timer);
        this.#wakers.delete(check);
        if (outcome instanceof PeerError) reject(outcome);
        else resolve(outcome);
      };
      const check = (): void => {
        if (done()) finish(true);
        else if (this.#closed) {
          finish(
            failOnClose
              ? new PeerError('ECP_PEER_CLOSED', `the connection closed while waiting for ${what}`)
              : false,
          );
        }
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            finish(new PeerError('ECP_PEER_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`)),
          timeoutMs,
        );
      }
      this.#wakers.add(check);
      check();
    });
  }
}

function parse(text: string): Received {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Received;
  } catch {
    // Not JSON: kept as text below.
  }
  return { notJson: text };
}
