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
 * WHY this cannot cut a healthy reader (issue 10): a member that drains holds the senders back
 * instead of being measured against them, so its queue stays near the high watermark; only a member
 * that makes no progress at all for the timeout, or passes the cap, is cut. WHY the room waits for a
 * member that is behind until it is found slow: that is what makes delivery lossless for every
 * reader that keeps reading, at any speed; the wait is bounded by the timeout.
 */
import { createStats, type ServerStats } from './stats.ts';
import { TokenBucket } from './token-bucket.ts';

/** A member's output, as flow control sees it. The Outbox implements it. */
export interface TrackedOutput {
  /** Output the connection held when last looked at, bytes. Maintained by FlowControl. */
  accounted: number;
  /** When the pending output last drained (or started to be pending), ms (performance.now()). */
  lastProgressAt: number;
  behind: boolean;
  /** Reads the connection's pending output now. */
  currentPending(): number;
  /** The pending output has not drained for the timeout: disconnect the member. */
  timedOut(stalledMs: number): void;
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
  readonly #behind = new Set<TrackedOutput>();
  readonly #backlogged = new Set<TrackedOutput>();
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
    for (let i = 0; i < active.length; i++) active[i]!.turnBytes = 0;
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

  /**
   * Records what a connection holds now. `progressed`: its pending output drained since the last
   * look (a flush, a 'drain', a sweep saw less). Called only when something changed.
   */
  update(output: TrackedOutput, pending: number, progressed: boolean): void {
    const before = output.accounted;
    output.accounted = pending;
    this.#total += pending - before;
    this.#stats.outputQueuedBytes = this.#total;
    if (pending > 0) {
      if (before === 0 || progressed) output.lastProgressAt = performance.now();
      if (before === 0) {
        this.#backlogged.add(output);
        this.#startSweep();
      }
    } else if (before > 0) {
      this.#backlogged.delete(output);
    }
    if (!output.behind && pending > this.settings.highWaterBytes) {
      output.behind = true;
      this.#behind.add(output);
    } else if (output.behind && pending <= this.settings.lowWaterBytes) {
      output.behind = false;
      this.#behind.delete(output);
    }
    this.#checkBudget();
    if (this.#waiting.length > 0 && !this.congested) this.#scheduleTick();
  }

  /** The connection is gone: its output no longer counts. */
  forget(output: TrackedOutput): void {
    this.#total -= output.accounted;
    this.#stats.outputQueuedBytes = this.#total;
    output.accounted = 0;
    this.#backlogged.delete(output);
    if (output.behind) {
      output.behind = false;
      this.#behind.delete(output);
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
    const slow: { output: TrackedOutput; stalledMs: number }[] = [];
    for (const output of this.#backlogged) {
      const pending = output.currentPending();
      if (pending !== output.accounted) this.update(output, pending, pending < output.accounted);
      if (pending === 0) continue;
      if (excused > 0) output.lastProgressAt = Math.min(now, output.lastProgressAt + excused);
      const stalledMs = now - output.lastProgressAt;
      if (stalledMs > this.settings.slowReaderTimeoutMs) slow.push({ output, stalledMs });
    }
    // After the loop: disconnecting changes the sets.
    for (const { output, stalledMs } of slow) output.timedOut(stalledMs);
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
      const gate = waiting[i]!;
      gate.waiting = false;
      if (!gate.closed) gate.resume();
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
  turnBytes = 0;
  waiting = false;
  closed = false;
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
    if (this.waiting || this.#rateTimer !== undefined) return false;
    const flow = this.#flow;
    if (flow.congested) {
      this.#wait();
      return false;
    }
    if (this.turnBytes > 0 && this.turnBytes + bytes > flow.settings.maxInputBytesPerTurn) {
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
    if (this.turnBytes === 0) flow.active(this);
    this.turnBytes += bytes;
    return true;
  }

  resume(): void {
    if (!this.closed) this.#onResume();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.#rateTimer);
    this.#rateTimer = undefined;
    if (this.waiting) this.#flow.unwait(this);
  }

  #wait(): void {
    this.waiting = true;
    this.#flow.wait(this);
  }
}
