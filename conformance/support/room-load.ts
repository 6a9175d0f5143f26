/**
 * Load through the room (docs/protocol.md section 12): one member sends far more than the
 * pending-output limit while the others read as they can, and every member that reads must receive
 * every message, in order. Two shapes:
 * - the flood, sent in batches that every reading member must receive before the next goes out:
 *   it finds a member that stopped reading (ECP-LIM-03) without burying the others;
 * - the burst, sent all at once as fast as the sender's connection takes it (ECP-LIM-07 and 08):
 *   a server that reads the sender faster than its slowest reader drains piles the output up.
 *
 * While a load runs, a stall of the kit's own event loop is a member that stopped reading, to the
 * server. So the readers' work per line is small: the load counts its own lines as they arrive (one
 * JSON parse and a lookup of the payload, no decryption, nothing kept), and the burst is sealed
 * and encoded before the clock starts.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Limits, parseServerMessage } from '../../protocol/index.ts';
import type { WireClient } from './wire-client.ts';

/** Beyond the pending-output limit, what a reader that stopped can hide in its kernel's socket buffers. */
const KERNEL_BUFFER_ALLOWANCE = 16 * 1024 * 1024;
/** A flood is sent in batches of about this many bytes, each awaited by every reading member. */
const FLOOD_BATCH_BYTES = 1024 * 1024;
/** The burst is this many times the pending-output limit, plus the kernel allowance. */
export const BURST_LIMIT_MULTIPLE = 4;

/** The room as a load sees it. */
export interface LoadRoom {
  /** The member that sends: its label, its client, and the name the others see it by. */
  sender: { label: string; client: WireClient; name: string };
  /** The members that read (the sender among them), by label, in join order. */
  readers: ReadonlyMap<string, WireClient>;
  /** Whether a member has stopped reading: the room may wait for it until it is found slow (ECP-LIM-03). */
  someoneStopped: boolean;
  limits: Limits;
  timeoutMs: number;
}

/** What a load sent, and how far each reading member got. */
export interface LoadReport {
  sender: string;
  /** Chat messages sent. */
  count: number;
  bytes: number;
  /** Per reading member: messages of the load received in order. */
  received: Map<string, number>;
  /** The first message a member received out of order, if any. */
  outOfOrder?: string;
  /** Reading members whose connection ended before they had everything. */
  disconnected: string[];
  /** The first reading member that waited in vain, with how many it had then and how many were due. */
  stalled?: { label: string; received: number; expected: number };
  /**
   * The longest the kit's own event loop could not run during the load, in ms: while it is
   * stalled (a busy machine), no member of the kit reads, and a server may rightly take a member
   * that "keeps reading" for one that stopped (ECP-LIM-03).
   */
  kitStallMs: number;
}

/**
 * Runs a load while watching the kit's event loop: the longest delay of a 10 ms timer is the
 * longest time the kit read nothing, which the kit measures exactly and the server cannot see.
 */
async function watchingTheKit(run: () => Promise<LoadReport>): Promise<LoadReport> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    const report = await run();
    report.kitStallMs = Math.round(delay.max / 1e6);
    return report;
  } finally {
    delay.disable();
  }
}

/** How many bytes a flood sends: enough to take a reader that stopped past the pending-output limit. */
export function floodBytes(limits: Limits): number {
  return 2 * limits.maxPendingOutputBytes + KERNEL_BUFFER_ALLOWANCE;
}

/** How many bytes a burst sends. */
export function burstBytes(limits: Limits): number {
  return BURST_LIMIT_MULTIPLE * limits.maxPendingOutputBytes + KERNEL_BUFFER_ALLOWANCE;
}

/**
 * Sends chat messages from the sender until more than `floodBytes` have gone out, in batches that
 * every reading member must receive, complete and in order, within the timeout (plus the
 * slow-reader timeout while a member does not read). Stops at the first stall.
 */
export function flood(room: LoadRoom): Promise<LoadReport> {
  return watchingTheKit(() => floodIn(room));
}

async function floodIn(room: LoadRoom): Promise<LoadReport> {
  const { sender, limits } = room;
  const load = new Load(room, 'flood', textBytesUnder(limits, 32 * 1024));
  const patienceMs = room.timeoutMs + (room.someoneStopped ? limits.slowReaderTimeoutMs : 0);
  const total = floodBytes(limits);
  load.startCounting();
  try {
    while (load.report.bytes <= total) {
      const batch = load.seal(FLOOD_BATCH_BYTES);
      sender.client.sendBytes(
        batch.bytes,
        `${batch.count} chat messages of ${load.textBytes} characters (flood)`,
      );
      const due = load.report.count;
      for (const [label, reader] of room.readers) {
        const arrived = () => load.received(label) >= due && load.report.outOfOrder === undefined;
        if (!(await reader.waitUntil(arrived, patienceMs))) {
          load.report.stalled = { label, received: load.received(label), expected: due };
          return load.report;
        }
      }
    }
    return load.report;
  } finally {
    load.stopCounting();
  }
}

/**
 * Sends the burst and waits until every reading member has all of it, one of them is cut off, or
 * one receives nothing for the timeout plus the slow-reader timeout (a server may hold the burst
 * back that long for a member that stopped reading, ECP-LIM-03).
 */
export async function burst(room: LoadRoom): Promise<LoadReport> {
  // Texts of up to 8 KiB (about 14.6 KiB sealed), smaller when the line limit is. Sealing and
  // encoding 17 MiB takes the kit a while: done before the first byte goes out, while nothing the
  // server judges is under way, and outside the stall the report measures.
  const load = new Load(room, 'burst', textBytesUnder(room.limits, 8 * 1024));
  const sealed = load.seal(burstBytes(room.limits));
  return watchingTheKit(() => burstIn(room, load, sealed.bytes));
}

async function burstIn(room: LoadRoom, load: Load, bytes: Buffer): Promise<LoadReport> {
  const { report } = load;
  load.startCounting();
  try {
    room.sender.client.sendBytes(
      bytes,
      `${report.count} chat messages of ${load.textBytes} characters at once (${(report.bytes / 1048576).toFixed(1)} MiB, burst)`,
    );
    const patienceMs = room.timeoutMs + room.limits.slowReaderTimeoutMs;
    for (const [label, reader] of room.readers) {
      let got = load.received(label);
      while (got < report.count && report.outOfOrder === undefined) {
        const before = got;
        await reader.waitUntil(
          () => load.received(label) > before || report.outOfOrder !== undefined,
          patienceMs,
        );
        got = load.received(label);
        if (!reader.isOpen && got < report.count) {
          report.disconnected.push(label);
          break;
        }
        if (got === before && report.outOfOrder === undefined) {
          report.stalled = { label, received: got, expected: report.count };
          return report;
        }
      }
    }
    return report;
  } finally {
    load.stopCounting();
  }
}

/** As large as the line limit allows (a sealed text is about 1.8 times its length), at most `cap`. */
function textBytesUnder(limits: Limits, cap: number): number {
  return Math.max(16, Math.min(cap, Math.floor((limits.maxLineBytes - 512) / 1.9)));
}

/**
 * The numbered texts of one load, sealed as the sender sends them, and per reading member how many
 * it received in order. Readers are matched on the sealed payloads, as sent: each is sealed afresh,
 * so comparing payloads is comparing texts, without decrypting thousands of lines while the server
 * waits for the kit to read.
 */
class Load {
  /** Each sealed payload, in the order sent; and each one's index. */
  readonly #payloads: string[] = [];
  readonly #indexOf = new Map<string, number>();
  readonly report: LoadReport;

  constructor(
    private readonly room: LoadRoom,
    private readonly kind: 'flood' | 'burst',
    readonly textBytes: number,
  ) {
    this.report = {
      sender: room.sender.label,
      count: 0,
      bytes: 0,
      received: new Map([...room.readers.keys()].map((label) => [label, 0])),
      disconnected: [],
      kitStallMs: 0,
    };
  }

  /** Seals the next texts, at least `bytes` of chat message lines, into one buffer to send. */
  seal(bytes: number): { bytes: Buffer; count: number } {
    const lines: string[] = [];
    let length = 0;
    while (length < bytes) {
      const line = this.#nextLine();
      lines.push(line);
      length += line.length;
    }
    // The lines are ASCII (JSON around base64), so their lengths are their sizes in bytes; written
    // into one buffer, never joined into one string of 17 MiB on the kit's heap.
    const encoded = Buffer.allocUnsafe(length);
    let offset = 0;
    for (const line of lines) offset += encoded.write(line, offset, 'latin1');
    this.report.bytes += length;
    return { bytes: encoded, count: lines.length };
  }

  /** The text numbered `index` (from 0). */
  textOf(index: number): string {
    return `${this.kind} ${String(index + 1).padStart(6, '0')} `.padEnd(this.textBytes, '~');
  }

  /** How many of the load's messages `label` received in order so far. */
  received(label: string): number {
    return this.report.received.get(label)!;
  }

  /** From now on, every reading member counts the load's lines as they arrive, and keeps only the others. */
  startCounting(): void {
    for (const [label, reader] of this.room.readers) reader.claimLines((text) => this.#count(label, text));
  }

  stopCounting(): void {
    for (const reader of this.room.readers.values()) reader.claimLines(undefined);
  }

  /** The next numbered text, sealed in a chat message line (with its line feed). */
  #nextLine(): string {
    const index = this.report.count;
    const message = this.room.sender.client.seal(this.textOf(index));
    this.#payloads.push(message);
    this.#indexOf.set(message, index);
    this.report.count = index + 1;
    return `${JSON.stringify({ type: 'message', message, encrypted: true })}\n`;
  }

  /**
   * A line `label` received: when it is the sender's chat message carrying the load's next text for
   * `label`, counts it and returns the transcript's note for it. Any other line is left to the
   * client, and a text of the load out of its turn is recorded as out of order.
   */
  #count(label: string, text: string): string | undefined {
    const parsed = parseServerMessage(text);
    if (!parsed.ok) return undefined;
    const { message } = parsed;
    if (message.type !== 'message' || message.sender !== this.room.sender.name) return undefined;
    const { report } = this;
    const got = this.received(label);
    // The text due is by far the likeliest: one comparison of the payloads, no hashing of 15 KB.
    const at = message.message === this.#payloads[got] ? got : this.#indexOf.get(message.message);
    if (at === undefined) return undefined;
    if (at !== got) {
      report.outOfOrder ??= `${label} received "${this.textOf(at).slice(0, 12)}…" where "${this.textOf(got).slice(0, 12)}…" was due`;
      return undefined;
    }
    report.received.set(label, got + 1);
    return `${this.kind} message ${at + 1} of ${report.count}, in order`;
  }
}
