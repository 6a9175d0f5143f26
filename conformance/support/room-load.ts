/**
 * Load through the room (docs/protocol.md section 12): one member sends far more than the
 * pending-output limit while the others read as they can, and every member that reads must receive
 * every message, in order. Two shapes:
 * - the flood, sent in batches that every reading member must receive before the next goes out:
 *   it finds a member that stopped reading (ECP-LIM-03) without burying the others;
 * - the burst, sent all at once as fast as the sender's connection takes it (ECP-LIM-07 and 08):
 *   a server that reads the sender faster than its slowest reader drains piles the output up.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Limits } from '../../protocol/index.ts';
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
  while (load.report.bytes <= total) {
    const batch: string[] = [];
    let batchBytes = 0;
    while (batchBytes < FLOOD_BATCH_BYTES) {
      const line = load.nextLine();
      batch.push(line);
      batchBytes += line.length;
    }
    sender.client.sendBytes(
      Buffer.from(batch.join('')),
      `${batch.length} chat messages of ${load.textBytes} characters (flood)`,
    );
    load.report.bytes += batchBytes;
    const due = load.texts.length;
    for (const [label, reader] of room.readers) {
      const arrived = () => load.advance(label) >= due && load.report.outOfOrder === undefined;
      if (!(await reader.waitUntil(arrived, patienceMs))) {
        load.report.stalled = { label, received: load.report.received.get(label)!, expected: due };
        return load.report;
      }
    }
  }
  return load.report;
}

/**
 * Sends the burst and waits until every reading member has all of it, one of them is cut off, or
 * one receives nothing for the timeout plus the slow-reader timeout (a server may hold the burst
 * back that long for a member that stopped reading, ECP-LIM-03).
 */
export function burst(room: LoadRoom): Promise<LoadReport> {
  return watchingTheKit(() => burstIn(room));
}

async function burstIn(room: LoadRoom): Promise<LoadReport> {
  const { sender, limits } = room;
  // Texts of up to 8 KiB (about 14.6 KiB sealed), smaller when the line limit is.
  const load = new Load(room, 'burst', textBytesUnder(limits, 8 * 1024));
  const total = burstBytes(limits);
  const lines: string[] = [];
  while (load.report.bytes < total) {
    const line = load.nextLine();
    lines.push(line);
    load.report.bytes += line.length;
  }
  const { report } = load;
  sender.client.sendBytes(
    Buffer.from(lines.join('')),
    `${report.count} chat messages of ${load.textBytes} characters at once (${(report.bytes / 1048576).toFixed(1)} MiB, burst)`,
  );
  const patienceMs = room.timeoutMs + limits.slowReaderTimeoutMs;
  for (const [label, reader] of room.readers) {
    let got = load.advance(label);
    while (got < report.count && report.outOfOrder === undefined) {
      const before = got;
      await reader.waitUntil(
        () => load.advance(label) > before || report.outOfOrder !== undefined,
        patienceMs,
      );
      got = load.advance(label);
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
}

/** As large as the line limit allows (a sealed text is about 1.8 times its length), at most `cap`. */
function textBytesUnder(limits: Limits, cap: number): number {
  return Math.max(16, Math.min(cap, Math.floor((limits.maxLineBytes - 512) / 1.9)));
}

/** The texts of one load, and, per reading member, how many of them it received in order. */
class Load {
  readonly texts: string[] = [];
  /** The sealed payload of each text, as sent: what readers are matched on, with no decryption. */
  readonly #payloads: string[] = [];
  readonly #indexOf = new Map<string, number>();
  readonly report: LoadReport;
  /** Per reading member: how many of its lines were looked at. */
  readonly #scanned: Map<string, number>;

  constructor(
    private readonly room: LoadRoom,
    private readonly kind: 'flood' | 'burst',
    readonly textBytes: number,
  ) {
    const labels = [...room.readers.keys()];
    this.report = {
      sender: room.sender.label,
      count: 0,
      bytes: 0,
      received: new Map(labels.map((label) => [label, 0])),
      disconnected: [],
      kitStallMs: 0,
    };
    this.#scanned = new Map([...room.readers].map(([label, client]) => [label, client.lines.length]));
  }

  /** The next numbered text, sealed in a chat message line (with its line feed). */
  nextLine(): string {
    const text = `${this.kind} ${String(this.texts.length + 1).padStart(6, '0')} `.padEnd(
      this.textBytes,
      '~',
    );
    this.texts.push(text);
    this.report.count = this.texts.length;
    const message = this.room.sender.client.seal(text);
    this.#indexOf.set(message, this.#payloads.length);
    this.#payloads.push(message);
    return `${JSON.stringify({ type: 'message', message, encrypted: true })}\n`;
  }

  /** Counts what `label` received since the last look; returns how many it has in order. */
  advance(label: string): number {
    const { report } = this;
    const lines = this.room.readers.get(label)!.lines;
    let got = report.received.get(label)!;
    for (let index = this.#scanned.get(label)!; index < lines.length; index++) {
      const line = lines[index]!;
      if (line.message?.type !== 'message' || line.message.sender !== this.room.sender.name) continue;
      // Each payload is sealed afresh, so comparing payloads is comparing texts, without the cost
      // of decrypting thousands of lines while the server waits for the kit to read.
      const at = this.#indexOf.get(line.message.message);
      if (at === undefined) continue;
      if (at === got) got++;
      else
        report.outOfOrder ??= `${label} received "${this.texts[at]?.slice(0, 12)}…" where "${this.texts[got]?.slice(0, 12)}…" was due`;
    }
    this.#scanned.set(label, lines.length);
    report.received.set(label, got);
    return got;
  }
}
