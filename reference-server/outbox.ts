/**
 * Coalesced output. Each connection has an Outbox of encoded lines; lines queued during one turn of
 * the event loop leave in ONE batch at the end of it (setImmediate runs after the I/O callbacks
 * that queued them), which the transport writes at once. A broadcast therefore costs an array push
 * per recipient, and the syscalls scale with turns, not with messages.
 */
import type { Connection } from '../transport/index.ts';
import type { FlowControl, OutputAccount, OutputSource } from './flow-control.ts';
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

export interface OutboxOptions {
  flushQueue: FlushQueue;
  /** The cap: a line that would take pending output past it is refused (the member is slow). */
  maxPendingBytes: number;
  stats: ServerStats;
  /** Flow control, told what the connection holds; without it, no progress is tracked (tests). */
  flow?: FlowControl;
  /** Called when the pending output has not drained for the slow-reader timeout. */
  onTimeout?: (stalledMs: number) => void;
}

export class Outbox implements OutputSource {
  readonly #connection: Connection;
  readonly #flushQueue: FlushQueue;
  readonly #maxPendingBytes: number;
  readonly #earlyFlushBytes: number;
  readonly #stats: ServerStats;
  /** Flow control's account of this output; undefined without flow control, or once untracked. */
  #account: OutputAccount | undefined;
  readonly #onTimeout: ((stalledMs: number) => void) | undefined;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #due = false;

  constructor(connection: Connection, options: OutboxOptions) {
    this.#connection = connection;
    this.#flushQueue = options.flushQueue;
    this.#maxPendingBytes = options.maxPendingBytes;
    this.#earlyFlushBytes = Math.max(1, Math.min(EARLY_FLUSH_BYTES, Math.floor(options.maxPendingBytes / 4)));
    this.#stats = options.stats;
    this.#account = options.flow?.track(this);
    this.#onTimeout = options.onTimeout;
    if (this.#account !== undefined) connection.on('drain', () => this.#observe());
  }

  /** Output not yet taken by the kernel: the connection's own buffer plus what waits for the next flush. */
  get pendingBytes(): number {
    return this.#connection.pendingOutputBytes + this.#bytes;
  }

  /**
   * Queues one encoded line (shared, never modified). Returns false, queuing nothing, when the
   * line would take pending output past the cap: the member is a slow reader. A reader with nothing
   * pending always gets the line, however long, so one large message never counts against a client
   * that keeps up.
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
    const connection = this.#connection;
    if (!connection.writable) return;
    const before = connection.pendingOutputBytes;
    connection.sendBatch(chunks, bytes);
    this.#stats.bytesSent += bytes;
    const account = this.#account;
    if (account === undefined) return;
    const after = connection.pendingOutputBytes;
    // The common case, a reader that keeps up: the kernel took everything, nothing to track.
    if (after === 0 && account.accounted === 0) return;
    // Progress: what was pending before has shrunk since the last look, or this write went out.
    account.update(after, before < account.accounted || after < before + bytes);
  }

  /** Drops whatever is queued (the connection is gone). */
  discard(): void {
    this.#chunks = [];
    this.#bytes = 0;
    this.untrack();
  }

  /**
   * Flow control stops tracking this output: the connection is closing, its last lines have a
   * grace period of their own, and the room no longer waits for it.
   */
  untrack(): void {
    this.#account?.close();
    this.#account = undefined;
  }

  // --- OutputSource ---------------------------------------------------------------------------

  currentPending(): number {
    return this.#connection.writable ? this.#connection.pendingOutputBytes : 0;
  }

  timedOut(stalledMs: number): void {
    this.#onTimeout?.(stalledMs);
  }

  /** The connection drained: its pending output fell, usually to nothing. */
  #observe(): void {
    const account = this.#account;
    if (account === undefined) return;
    const pending = this.currentPending();
    if (pending !== account.accounted || pending > 0) account.update(pending, true);
  }
}
