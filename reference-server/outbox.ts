/**
 * Coalesced output. Each connection has an Outbox of encoded lines; lines queued during one turn of
 * the event loop leave in ONE batch at the end of it (setImmediate runs after the I/O callbacks
 * that queued them), which the transport writes at once. A broadcast therefore costs an array push
 * per recipient, and the syscalls scale with turns, not with messages.
 */
import type { Connection } from '../transport/index.ts';
import type { ServerStats } from './stats.ts';

/**
 * A queue this large is flushed at once rather than at the end of the turn. One turn can read
 * megabytes of input (libuv reads repeatedly per poll), and holding all of its output back would
 * both delay it and make a healthy reader look slow to the pending-output check.
 */
const EARLY_FLUSH_BYTES = 64 * 1024;

/** Runs every outbox that has something queued, once, at the end of the current event-loop turn. */
export class FlushQueue {
  #due: Outbox[] = [];
  #spare: Outbox[] = [];
  #scheduled = false;
  // Bound once so scheduling allocates no closure per turn.
  readonly #run = (): void => {
    this.#scheduled = false;
    const due = this.#due;
    this.#due = this.#spare;
    for (let i = 0; i < due.length; i++) due[i]!.flushDue();
    due.length = 0;
    this.#spare = due;
  };

  add(outbox: Outbox): void {
    this.#due.push(outbox);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }
}

export class Outbox {
  readonly #connection: Connection;
  readonly #flushQueue: FlushQueue;
  readonly #maxPendingBytes: number;
  readonly #earlyFlushBytes: number;
  readonly #stats: ServerStats;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #due = false;

  constructor(connection: Connection, flushQueue: FlushQueue, maxPendingBytes: number, stats: ServerStats) {
    this.#connection = connection;
    this.#flushQueue = flushQueue;
    this.#maxPendingBytes = maxPendingBytes;
    this.#earlyFlushBytes = Math.max(1, Math.min(EARLY_FLUSH_BYTES, Math.floor(maxPendingBytes / 4)));
    this.#stats = stats;
  }

  /** Output not yet taken by the kernel: the connection's own buffer plus what waits for the next flush. */
  get pendingBytes(): number {
    return this.#connection.pendingOutputBytes + this.#bytes;
  }

  /**
   * Queues one encoded line (shared, never modified). Returns false, queuing nothing, when the reader
   * is too slow: output is already pending and this line would take it past the limit. A reader
   * with nothing pending always gets the line, however long, so one large message never counts
   * against a client that keeps up.
   */
  push(line: Buffer): boolean {
    const pending = this.#connection.pendingOutputBytes + this.#bytes;
    if (pending > 0 && pending + line.length > this.#maxPendingBytes) return false;
    this.#chunks.push(line);
    this.#bytes += line.length;
    this.#stats.deliveries++;
    if (this.#bytes >= this.#earlyFlushBytes) {
      this.flush();
    } else if (!this.#due) {
      this.#due = true;
      this.#flushQueue.add(this);
    }
    return true;
  }

  /** The end-of-turn flush this outbox was scheduled for. */
  flushDue(): void {
    this.#due = false;
    this.flush();
  }

  /** Hands everything queued to the connection now (a large queue, or a last line before closing). */
  flush(): void {
    if (this.#chunks.length === 0) return;
    const chunks = this.#chunks;
    const bytes = this.#bytes;
    this.#chunks = [];
    this.#bytes = 0;
    if (!this.#connection.writable) return;
    this.#connection.sendBatch(chunks, bytes);
    this.#stats.bytesSent += bytes;
  }

  /** Drops whatever is queued (the connection is gone). */
  discard(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }
}
