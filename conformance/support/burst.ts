/**
 * A burst (docs/protocol.md ECP-LIM-07 and 08): one member writes far more than the pending-output limit
 * at once, as fast as its connection takes it, while the others read as they can. Every member
 * that reads must receive every message of the burst, in order; the report says how far each got
 * and who was disconnected. Unlike the flood (world.ts), nothing waits between parts of the burst:
 * a server that reads the sender faster than its slowest reader drains piles the output up.
 */
import type { ConformanceWorld } from './world.ts';

/** Beyond the limit, what a reader that stopped can hide in its kernel's socket buffers. */
const KERNEL_BUFFER_ALLOWANCE = 16 * 1024 * 1024;
/** The burst is this many times the pending-output limit, plus the kernel allowance. */
export const BURST_LIMIT_MULTIPLE = 4;

export interface BurstReport {
  sender: string;
  count: number;
  bytes: number;
  /** Per reading member: messages of the burst received in order. */
  received: Map<string, number>;
  /** The first message a member received out of order, if any. */
  outOfOrder?: string;
  /** Reading members whose connection ended before they had everything. */
  disconnected: string[];
  /** A reading member that received nothing new for the allowed time, with its count then. */
  stalled?: { label: string; received: number };
}

/** How many bytes a burst sends under the target's limits. */
export function burstBytes(world: ConformanceWorld): number {
  return BURST_LIMIT_MULTIPLE * world.limits.maxPendingOutputBytes + KERNEL_BUFFER_ALLOWANCE;
}

/**
 * Sends the burst and waits until every reading member has all of it, one of them is cut off, or
 * one receives nothing for the timeout plus the slow-reader timeout (a server may hold the burst
 * back that long for a member that stopped reading, ECP-LIM-03).
 */
export async function sendBurst(world: ConformanceWorld, sender: string): Promise<BurstReport> {
  const client = world.client(sender);
  const name = world.memberName(sender);
  const readers = world.members.filter((label) => world.client(label).reading);
  const total = burstBytes(world);
  // Texts of up to 8 KiB (about 14.6 KiB sealed), smaller when the line limit is.
  const textBytes = Math.max(16, Math.min(8 * 1024, Math.floor((world.limits.maxLineBytes - 512) / 1.9)));
  const texts: string[] = [];
  const lines: string[] = [];
  let bytes = 0;
  while (bytes < total) {
    const text = `burst ${String(texts.length + 1).padStart(6, '0')} `.padEnd(textBytes, '~');
    const line = `${JSON.stringify({ type: 'message', message: client.seal(text), encrypted: true })}\n`;
    texts.push(text);
    lines.push(line);
    bytes += line.length;
  }
  const report: BurstReport = {
    sender,
    count: texts.length,
    bytes,
    received: new Map(readers.map((label) => [label, 0])),
    disconnected: [],
  };
  const scanned = new Map(readers.map((label) => [label, world.client(label).lines.length]));
  const advance = (label: string): number => {
    const received = world.client(label).lines;
    let got = report.received.get(label)!;
    for (let index = scanned.get(label)!; index < received.length; index++) {
      const line = received[index]!;
      if (line.message?.type !== 'message' || line.message.sender !== name) continue;
      const text = world.textOf(line) ?? '';
      if (!text.startsWith('burst ')) continue;
      if (text === texts[got]) got++;
      else
        report.outOfOrder ??= `${label} received "${text.slice(0, 12)}…" where "${texts[got]?.slice(0, 12)}…" was due`;
    }
    scanned.set(label, received.length);
    report.received.set(label, got);
    return got;
  };

  client.sendBytes(
    Buffer.from(lines.join('')),
    `${texts.length} chat messages of ${textBytes} characters at once (${(bytes / 1048576).toFixed(1)} MiB, burst)`,
  );
  const patienceMs = world.timeoutMs + world.limits.slowReaderTimeoutMs;
  for (const label of readers) {
    const reader = world.client(label);
    let got = advance(label);
    while (got < texts.length && report.outOfOrder === undefined) {
      const before = got;
      await reader.waitUntil(() => advance(label) > before || report.outOfOrder !== undefined, patienceMs);
      got = advance(label);
      if (!reader.isOpen && got < texts.length) {
        report.disconnected.push(label);
        break;
      }
      if (got === before && report.outOfOrder === undefined) {
        report.stalled = { label, received: got };
        return report;
      }
    }
  }
  return report;
}
