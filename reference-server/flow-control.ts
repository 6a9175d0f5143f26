/**
 * Flow control for the whole server (docs/protocol.md section 12, ECP-LIM-03, 04 and 07 to 09): input is read
 * only as fast as the room's output drains, and slow readers are told apart from healthy ones by
 * progress, never by an instantaneous byte count.
 *
 * Output side. Each Outbox reports the output its connection holds (`pendingOutputBytes`) when it
 * flushes, when the connection drains, and at every sweep while output is pending. From that:
 * - a member is *behind* while its pending output is above the high watermark, and stays behind
 *   until it falls to the low one;
 * - the room is *congested* while some member is behind or the output queued for everyone together
 *   exceeds the total budget;
 * - a member whose pending output has not drained at all for the slow-reader timeout is slow: the
 *   sweep disconnects it (rule `timeout`). The Outbox itself enforces the cap (rule `cap`).
 *
 * Input side. Every session asks its InputGate before it processes a message. While the room is
 * congested, once a session has processed its share of one event-loop turn, or when its rate
 * limit has no token left, the gate says no: the session keeps the message, pauses its connection
 * (so TCP slows the peer down) and the gate wakes it up when it may go on. Sessions wait in one
 * FIFO, so the room resumes them in the order they stopped.
 *
 * WHY this cannot cut a healthy reader: a member that drains holds the senders back
 * instead of being measured against them, so its queue stays near the high watermark; only a member
 * that makes no progress at all for the timeout, or passes the cap, is cut. WHY the room waits for a
 * member that is behind until it is found slow: that is what makes delivery lossless for every
 * reader that keeps reading, at any speed; the wait is bounded by the timeout.
 */
import { createStats, type ServerStats } from './stats.ts';
import { TokenBucket } from './token-bucket.ts';

/** A member's output as flow control reads it. The Outbox is one. */
export interface OutputSource {
  /** Reads the connection's pending output now. */
  currentPending(): number;
  /** The pending output has not drained for the timeout: disconnect the member. */
  timedOut(stalledMs: number): void;
}

/**
 * Flow control's account of one member's output: what the connection held when last looked at,
 * since when it has not drained, whether it holds the senders back. The output's owner reports to
 * it (`update`, `close`); only the account writes its figures, and it tells FlowControl what changed
 * for the room as a whole.
 */
export class OutputAccount {
  readonly source: OutputSource;
  readonly #flow: FlowControl;
  #accounted = 0;
  #lastProgressAt = 0;
  #behind = false;
  #closed = false;

  constructor(flow: FlowControl, source: OutputSource) {
    this.#flow = flow;
    this.source = source;
  }

  /** Output the connection held when last looked at, bytes. */
  get accounted(): number {
    return this.#accounted;
  }

  /** Above the high watermark, and not yet back to the low one. */
  get behind(): boolean {
    return this.#behind;
  }

  /**
   * Records what the connection holds now. `progressed`: its pending output drained since the last
   * look (a flush, a 'drain', a sweep saw less). Called only when something changed.
   */
  update(pending: number, progressed: boolean): void {
    if (this.#closed) return;
    const before = this.#accounted;
    const wasBehind = this.#behind;
    this.#accounted = pending;
    if (pending > 0 && (before === 0 || progressed)) this.#lastProgressAt = performance.now();
    const { highWaterBytes, lowWaterBytes } = this.#flow.settings;
    if (!wasBehind && pending > highWaterBytes) this.#behind = true;
    else if (wasBehind && pending <= lowWaterBytes) this.#behind = false;
    this.#flow.accountChanged(this, before, wasBehind);
  }

  /** The connection is gone or closing: its output no longer counts, and the room no longer waits for it. */
  close(): void {
    if (this.#closed) return;
    const before = this.#accounted;
    const wasBehind = this.#behind;
    this.#closed = true;
    this.#accounted = 0;
    this.#behind = false;
    this.#flow.accountChanged(this, before, wasBehind);
  }

  /**
   * How long the pending output has not drained, as of `now`, ms. `excusedMs`: time this process
   * itself was stalled, which does not count against the reader.
   */
  stalledMs(now: number, excusedMs: number): number {
    if (excusedMs > 0) this.#lastProgressAt = Math.min(now, this.#lastProgressAt + excusedMs);
    return now - this.#lastProgressAt;
  }
}

export interface FlowSettings {
  /** A member with more pending output than this holds the senders back, bytes. */
  highWaterBytes: number;
  /** ... until its pending output falls to this, bytes. */
  lowWaterBytes: number;
  /** Pending output that has not drained for this long makes its member slow, ms. */
  slowReaderTimeoutMs: number;
  /** While the output queued for all connections together is above this, no input is processed, bytes. */
  maxTotalOutputBytes: number;
  /** Input one connection may have processed in one event-loop turn before it yields, bytes. */
  maxInputBytesPerTurn: number;
}

/** The largest high watermark; below it, a quarter of the cap (so a member that drains never nears the cap). */
const MAX_HIGH_WATER_BYTES = 1024 * 1024;
/** Input one connection may have processed per event-loop turn before others get theirs. */
export const MAX_INPUT_BYTES_PER_TURN = 256 * 1024;
/** The sweep runs this often (at most; a tenth of the timeout when that is shorter), ms. */
const MAX_SWEEP_INTERVAL_MS = 100;
const MIN_SWEEP_INTERVAL_MS = 5;

/** The watermarks for a given cap: a quarter of it, at most 1 MiB; the low one half of that. */
export function watermarksFor(maxPendingOutputBytes: number): {
  highWaterBytes: number;
  lowWaterBytes: number;
} {
  const highWaterBytes = Math.max(1, Math.min(MAX_HIGH_WATER_BYTES, Math.floor(maxPendingOutputBytes / 4)));
  return { highWaterBytes, lowWaterBytes: Math.floor(highWaterBytes / 2) };
}

export class FlowControl {
  readonly settings: Readonly<FlowSettings>;
  #total = 0;
  readonly #behind = new Set<OutputAccount>();
  readonly #backlogged = new Set<OutputAccount>();
  /** Gates waiting for the room (congestion) or for the next turn, in the order they stopped. */
  #waiting: InputGate[] = [];
  /** Gates that processed input this turn (their per-turn count is reset at the tick). */
  #active: InputGate[] = [];
  #tickScheduled = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  #lastSweepAt = 0;
  readonly #sweepIntervalMs: number;
  readonly #stats: ServerStats;
  #overBudget = false;

  readonly #tick = (): void => {
    this.#tickScheduled = false;
    const active = this.#active;
    this.#active = [];
    for (let i = 0; i < active.length; i++) active[i]!.newTurn();
    this.#release();
  };

  readonly #sweep = (): void => this.#runSweep();

  /** Counts and gauges go into `stats` (outputQueuedBytes, inputPaused, inputPauses, ...). */
  constructor(settings: FlowSettings, stats: ServerStats = createStats()) {
    this.settings = Object.freeze({ ...settings });
    this.#stats = stats;
    this.#sweepIntervalMs = Math.max(
      MIN_SWEEP_INTERVAL_MS,
      Math.min(MAX_SWEEP_INTERVAL_MS, Math.floor(settings.slowReaderTimeoutMs / 10)),
    );
  }

  /** Output queued for all connections together, as last observed, bytes. */
  get queuedOutputBytes(): number {
    return this.#total;
  }

  /** Connections whose input is paused now. */
  get pausedConnections(): number {
    return this.#waiting.length;
  }

  /** Members whose pending output is above the high watermark now. */
  get membersBehind(): number {
    return this.#behind.size;
  }

  /** Whether input must wait: some member is behind, or the total budget is used up. */
  get congested(): boolean {
    return this.#behind.size > 0 || this.#overBudget;
  }

  /** A gate for one connection's input, with its own rate limit when one is given. */
  gate(onResume: () => void, rate?: { perSecond: number; burst: number }): InputGate {
    return new InputGate(
      this,
      onResume,
      rate === undefined ? undefined : new TokenBucket(rate.perSecond, rate.burst),
    );
  }

  // --- output ----------------------------------------------------------------------------------

  /** Starts accounting for a member's output. */
  track(source: OutputSource): OutputAccount {
    return new OutputAccount(this, source);
  }

  /**
   * An account's figures changed (`before`: what it held, `wasBehind`: whether it was behind):
   * the room's total, its backlogged and behind members and its congestion follow.
   */
  accountChanged(account: OutputAccount, before: number, wasBehind: boolean): void {
    const pending = account.accounted;
    this.#total += pending - before;
    this.#stats.outputQueuedBytes = this.#total;
    if (pending > 0 && before === 0) {
      this.#backlogged.add(account);
      this.#startSweep();
    } else if (pending === 0 && before > 0) {
      this.#backlogged.delete(account);
    }
    if (account.behind !== wasBehind) {
      if (account.behind) this.#behind.add(account);
      else this.#behind.delete(account);
    }
    this.#checkBudget();
    if (this.#waiting.length > 0 && !this.congested) this.#scheduleTick();
  }

  #checkBudget(): void {
    const over = this.#total > this.settings.maxTotalOutputBytes;
    if (over && !this.#overBudget) this.#stats.outputBudgetReached++;
    this.#overBudget = over;
  }

  #startSweep(): void {
    if (this.#sweepTimer !== undefined) return;
    this.#lastSweepAt = performance.now();
    this.#sweepTimer = setInterval(this.#sweep, this.#sweepIntervalMs);
    this.#sweepTimer.unref();
  }

  /**
   * Looks at every connection with output pending: notes progress the 'drain' events did not
   * report, and disconnects the members whose output has not moved for the timeout.
   */
  #runSweep(): void {
    const now = performance.now();
    // A sweep that runs late means this process was stalled (GC, an overloaded machine): that
    // time is ours, not the readers', so it does not count against them.
    const late = now - this.#lastSweepAt - this.#sweepIntervalMs;
    this.#lastSweepAt = now;
    const excused = late > this.#sweepIntervalMs ? late : 0;
    const slow: { account: OutputAccount; stalledMs: number }[] = [];
    for (const account of this.#backlogged) {
      const pending = account.source.currentPending();
      if (pending !== account.accounted) account.update(pending, pending < account.accounted);
      if (pending === 0) continue;
      const stalledMs = account.stalledMs(now, excused);
      if (stalledMs > this.settings.slowReaderTimeoutMs) slow.push({ account, stalledMs });
    }
    // After the loop: disconnecting changes the sets.
    for (const { account, stalledMs } of slow) account.source.timedOut(stalledMs);
    if (this.#backlogged.size === 0 && this.#sweepTimer !== undefined) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  // --- input -----------------------------------------------------------------------------------

  /** Counts input a gate processed this turn; the tick resets it. */
  active(gate: InputGate): void {
    this.#active.push(gate);
    this.#scheduleTick();
  }

  wait(gate: InputGate): void {
    this.#waiting.push(gate);
    this.#stats.inputPaused = this.#waiting.length;
    if (this.congested) this.#stats.inputPauses++;
    // Waiting for the next turn only needs a tick; waiting for the room, a tick once it clears.
    if (!this.congested) this.#scheduleTick();
  }

  /** A closed gate leaves the queue. */
  unwait(gate: InputGate): void {
    const index = this.#waiting.indexOf(gate);
    if (index === -1) return;
    this.#waiting.splice(index, 1);
    this.#stats.inputPaused = this.#waiting.length;
  }

  #scheduleTick(): void {
    if (this.#tickScheduled) return;
    this.#tickScheduled = true;
    setImmediate(this.#tick);
  }

  /** Resumes waiting gates in order, while the room is not congested. */
  #release(): void {
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    let i = 0;
    for (; i < waiting.length && !this.congested; i++) {
      waiting[i]!.release();
    }
    // Congested again part way: the rest keep their place, ahead of any that stopped meanwhile.
    if (i < waiting.length) this.#waiting = waiting.slice(i).concat(this.#waiting);
    this.#stats.inputPaused = this.#waiting.length;
  }

  /** A message waited for its connection's rate limit. */
  rateLimited(): void {
    this.#stats.rateLimited++;
  }
}

/**
 * One connection's permission to process input. `admit` says whether a message may be processed
 * now; when it may not, the gate has arranged to call `resume` once it may, and the session keeps
 * the message and pauses its connection meanwhile.
 */
export class InputGate {
  #turnBytes = 0;
  #waiting = false;
  #closed = false;
  readonly #flow: FlowControl;
  readonly #onResume: () => void;
  readonly #bucket: TokenBucket | undefined;
  #rateTimer: NodeJS.Timeout | undefined;

  constructor(flow: FlowControl, onResume: () => void, bucket: TokenBucket | undefined) {
    this.#flow = flow;
    this.#onResume = onResume;
    this.#bucket = bucket;
  }

  /** Whether the session is waiting for its rate limit. */
  get rateLimited(): boolean {
    return this.#rateTimer !== undefined;
  }

  /** May a message of `bytes` be processed now? If not, `resume` will be called when it may. */
  admit(bytes: number): boolean {
    if (this.#waiting || this.#rateTimer !== undefined) return false;
    const flow = this.#flow;
    if (flow.congested) {
      this.#wait();
      return false;
    }
    if (this.#turnBytes > 0 && this.#turnBytes + bytes > flow.settings.maxInputBytesPerTurn) {
      this.#wait();
      return false;
    }
    if (this.#bucket !== undefined) {
      const waitMs = this.#bucket.take(performance.now());
      if (waitMs > 0) {
        flow.rateLimited();
        this.#rateTimer = setTimeout(() => {
          this.#rateTimer = undefined;
          this.resume();
        }, Math.ceil(waitMs));
        return false;
      }
    }
    if (this.#turnBytes === 0) flow.active(this);
    this.#turnBytes += bytes;
    return true;
  }

  resume(): void {
    if (!this.#closed) this.#onResume();
  }

  /** FlowControl's tick: a new event-loop turn, so the per-turn count starts again. */
  newTurn(): void {
    this.#turnBytes = 0;
  }

  /** FlowControl lets this gate's input go on (the room cleared, or its next turn came). */
  release(): void {
    this.#waiting = false;
    this.resume();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#rateTimer);
    this.#rateTimer = undefined;
    if (this.#waiting) this.#flow.unwait(this);
  }

  #wait(): void {
    this.#waiting = true;
    this.#flow.wait(this);
  }
}
