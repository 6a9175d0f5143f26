/**
 * Per-recipient accounting of bench deliveries, for the clients of one worker thread.
 *
 * What counts: a message belongs to the measurement window when its SCHEDULED send time lies in
 * [windowStart, windowEnd). Every such message should reach every client exactly once (the
 * sender's own echo included). For those the ledger counts, per recipient and sender, first
 * arrivals (`received`), repeated arrivals (`duplicated`) and arrivals whose sequence number is
 * below one already seen from that sender (`reordered`), and records latency = receive time -
 * scheduled time. Throughput counts arrivals by RECEIVE time within the window, whatever their
 * scheduled time, so a server that falls behind shows a lower rate, not a borrowed one.
 * Losses are computed after the drain by the coordinator: expected minus received.
 */
import { type Histogram, newHistogram } from './histogram.ts';

export interface LedgerWindow {
  startMicros: number;
  endMicros: number;
}

/** The one test of window membership, used by senders (published) and receivers (expected) alike. */
export function inWindow(window: LedgerWindow, micros: number): boolean {
  return micros >= window.startMicros && micros < window.endMicros;
}

/** What one worker hands the coordinator for the latency to the last recipient of each message. */
export interface LastArrivalTable {
  /** Per sender, indexed by sequence number: how many of this worker's clients received it. */
  counts: Uint32Array[];
  /** Per sender, by sequence: the latest first-arrival time among them (µs), 0 if none. */
  latestMicros: Float64Array[];
  /** Per sender, by sequence: the scheduled time (µs), 0 if never seen. */
  scheduledMicros: Float64Array[];
}

const MAX_SEQ = 1 << 26;

/** Per sender: a bit per (sequence, local recipient), and the per-message arrival table. */
class SenderColumns {
  readonly #rowBytes: number;
  seen: Uint8Array;
  counts: Uint32Array;
  latest: Float64Array;
  scheduled: Float64Array;
  capacity: number;

  constructor(recipients: number) {
    this.#rowBytes = Math.ceil(recipients / 8);
    this.capacity = 1024;
    this.seen = new Uint8Array(this.capacity * this.#rowBytes);
    this.counts = new Uint32Array(this.capacity);
    this.latest = new Float64Array(this.capacity);
    this.scheduled = new Float64Array(this.capacity);
  }

  /** Marks (seq, recipient) seen; returns false when it already was. */
  mark(seq: number, recipient: number): boolean {
    if (seq >= this.capacity) this.#grow(seq);
    const index = seq * this.#rowBytes + (recipient >> 3);
    const bit = 1 << (recipient & 7);
    const byte = this.seen[index]!;
    if (byte & bit) return false;
    this.seen[index] = byte | bit;
    return true;
  }

  #grow(seq: number): void {
    let capacity = this.capacity;
    while (capacity <= seq) capacity *= 2;
    const seen = new Uint8Array(capacity * this.#rowBytes);
    seen.set(this.seen);
    this.seen = seen;
    this.counts = grown(this.counts, new Uint32Array(capacity));
    this.latest = grown(this.latest, new Float64Array(capacity));
    this.scheduled = grown(this.scheduled, new Float64Array(capacity));
    this.capacity = capacity;
  }
}

function grown<T extends Uint32Array | Float64Array>(old: T, fresh: T): T {
  fresh.set(old);
  return fresh;
}

export interface LedgerTotals {
  /** First arrivals of in-window messages. */
  received: number;
  duplicated: number;
  reordered: number;
  /** Arrivals (any scheduled time, duplicates included) received within the window. */
  windowArrivals: number;
  /** Of those, the senders' own echoes. */
  windowEchoes: number;
  /** Arrivals whose fields name no sender of this run. */
  unrecognised: number;
}

export class DeliveryLedger {
  readonly latency: Histogram = newHistogram();
  readonly totals: LedgerTotals = {
    received: 0,
    duplicated: 0,
    reordered: 0,
    windowArrivals: 0,
    windowEchoes: 0,
    unrecognised: 0,
  };
  /** Per local recipient: arrivals within the window (for fairness). */
  readonly perRecipientWindowArrivals: Float64Array;
  readonly #senders: number;
  readonly #columns: SenderColumns[];
  /** Per (recipient, sender): the highest sequence number seen so far, -1 for none. */
  readonly #highestSeq: Int32Array;
  readonly #window: LedgerWindow;

  constructor(options: { recipients: number; senders: number; window: LedgerWindow }) {
    this.#senders = options.senders;
    this.#window = options.window;
    this.perRecipientWindowArrivals = new Float64Array(options.recipients);
    this.#columns = Array.from({ length: options.senders }, () => new SenderColumns(options.recipients));
    this.#highestSeq = new Int32Array(options.recipients * options.senders).fill(-1);
  }

  /**
   * One arrival at local recipient `recipient`. `isEcho`: the recipient is the sender. Returns false
   * for an arrival that names no sender of this run.
   */
  record(
    recipient: number,
    sender: number,
    seq: number,
    scheduledMicros: number,
    receivedMicros: number,
    isEcho: boolean,
  ): boolean {
    const totals = this.totals;
    if (sender >= this.#senders || seq >= MAX_SEQ) {
      totals.unrecognised++;
      return false;
    }
    const window = this.#window;
    if (inWindow(window, receivedMicros)) {
      totals.windowArrivals++;
      if (isEcho) totals.windowEchoes++;
      this.perRecipientWindowArrivals[recipient]!++;
    }
    if (!inWindow(window, scheduledMicros)) return true;
    const column = this.#columns[sender]!;
    if (!column.mark(seq, recipient)) {
      totals.duplicated++;
      return true;
    }
    totals.received++;
    // Reordering is judged on first arrivals only: a late duplicate is a duplicate, not a reorder.
    const slot = recipient * this.#senders + sender;
    if (seq < this.#highestSeq[slot]!) totals.reordered++;
    else this.#highestSeq[slot] = seq;
    const latency = receivedMicros - scheduledMicros;
    this.latency.recordValue(latency > 0 ? Math.round(latency) : 0);
    column.counts[seq]!++;
    if (receivedMicros > column.latest[seq]!) column.latest[seq] = receivedMicros;
    column.scheduled[seq] = scheduledMicros;
    return true;
  }

  lastArrivals(): LastArrivalTable {
    return {
      counts: this.#columns.map((c) => c.counts),
      latestMicros: this.#columns.map((c) => c.latest),
      scheduledMicros: this.#columns.map((c) => c.scheduled),
    };
  }
}

/**
 * Merges the workers' tables: a message reached its last recipient when the counts add up to
 * `clients`; its latency to the last recipient is the latest arrival minus its scheduled time.
 * Returns the histogram (µs) and how many in-window messages did NOT reach everyone.
 */
export function lastRecipientLatency(
  tables: LastArrivalTable[],
  senders: number,
  clients: number,
  published: number[],
  firstWindowSeq: number[],
): { histogram: Histogram; incomplete: number } {
  const histogram = newHistogram();
  let incomplete = 0;
  for (let s = 0; s < senders; s++) {
    const first = firstWindowSeq[s] ?? 0;
    const end = first + (published[s] ?? 0);
    for (let q = first; q < end; q++) {
      let count = 0;
      let latest = 0;
      let scheduled = 0;
      for (const table of tables) {
        count += table.counts[s]?.[q] ?? 0;
        const at = table.latestMicros[s]?.[q] ?? 0;
        if (at > latest) latest = at;
        scheduled ||= table.scheduledMicros[s]?.[q] ?? 0;
      }
      if (count >= clients) histogram.recordValue(Math.max(0, Math.round(latest - scheduled)));
      else incomplete++;
    }
  }
  return { histogram, incomplete };
}
