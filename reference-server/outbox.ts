/**
 * Coalesced output. Each connection has an Outbox of encoded lines; lines queued during one turn of
 * the event loop leave in ONE batch at the end of it (setImmediate runs after the I/O callbacks
 * that queued them; over TLS and WebSocket, a millisecond later), which the transport writes at
 * once. A broadcast therefore costs an array push
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

/**
 * Transports whose every write costs much more than its bytes: each TLS write is a record sealed
 * and sent on its own, each WebSocket write goes through ws's socket and, over wss, TLS too. Their
 * batches wait up to HOLD_MS after the end of the turn that queued them, so the lines of the next
 * turns join the same write, unless a full TLS record's worth (HELD_BATCH_BYTES) is queued, which
 * leaves at once. A plain TCP write is one system call, and is not held.
 */
const HELD_TRANSPORTS: ReadonlySet<string> = new Set(['tls', 'ws', 'wss']);
/** The batching window of held transports: Node's shortest timer. */
const HOLD_MS = 1;
/** A held batch this large leaves at once: the most one TLS record carries (16 KiB). */
const HELD_BATCH_BYTES = 16 * 1024;

/**
 * Runs every outbox that has something queued, once, at the end of the current event-loop turn, or
 * at the end of the batching window for those that hold their batches.
 */
export class FlushQueue {
  #due: Outbox[] = [];
  #spare: Outbox[] = [];
  #scheduled = false;
  /** Outboxes whose batch waits for the window (see HELD_TRANSPORTS), all released by one timer. */
  #held: Outbox[] = [];
  #heldSpare: Outbox[] = [];
  #holding = false;
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

  readonly #release = (): void => {
    this.#holding = false;
    const held = this.#held;
    this.#held = this.#heldSpare;
    for (let i = 0; i < held.length; i++) held[i]!.flushHeld();
    held.length = 0;
    this.#heldSpare = held;
  };

  hold(outbox: Outbox): void {
    this.#held.push(outbox);
    if (!this.#holding) {
      this.#holding = true;
      setTimeout(this.#release, HOLD_MS);
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
  /** Whether this connection's batches wait for the batching window (see HELD_TRANSPORTS). */
  readonly #holds: boolean;
  /** In the flush queue's held list, waiting for the window to end. */
  #held = false;

  constructor(connection: Connection, options: OutboxOptions) {
    this.#connection = connection;
    this.#flushQueue = options.flushQueue;
    this.#maxPendingBytes = options.maxPendingBytes;
    this.#holds = HELD_TRANSPORTS.has(connection.transport);
    const earlyFlushBytes = this.#holds ? HELD_BATCH_BYTES : EARLY_FLUSH_BYTES;
    this.#earlyFlushBytes = Math.max(1, Math.min(earlyFlushBytes, Math.floor(options.maxPendingBytes / 4)));
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
    if (this.#holds && this.#bytes > 0) {
      // Still due (no other flush is scheduled) until the window ends.
      if (!this.#held) {
        this.#held = true;
        this.#flushQueue.hold(this);
      }
      return;
    }
    this.#due = false;
    this.flush();
  }

  /** The end of the batching window this outbox's batch waited for. */
  flushHeld(): void {
    this.#held = false;
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
