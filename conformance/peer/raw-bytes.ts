/**
 * The one place where the peer misbehaves below ECP, through the transport's raw capability:
 * bytes as they are on a byte stream (split lines, bytes that are not UTF-8), one frame as it is
 * on WebSocket, and a reset.
 */
import { type Connection, rawAccess } from '../../transport/index.ts';
import { PeerError } from './errors.ts';

/** Writes `data` as it is: on a byte stream, bytes with no framing added; on WebSocket, one text frame. */
export function writeRaw(connection: Connection, data: string | Uint8Array): void {
  const raw = rawAccess(connection);
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  if (raw.kind === 'bytes') raw.write(bytes);
  else raw.send(Buffer.from(bytes), { binary: false });
}

/** Whether one message may be written in several pieces (a WebSocket frame is one message). */
export function canSplit(connection: Connection): boolean {
  return rawAccess(connection).kind === 'bytes';
}

/** Writes `data` cut at the byte offsets `at`, one write per piece, `gapMs` apart (0: one event-loop turn). */
export async function writeSplit(
  connection: Connection,
  data: string | Uint8Array,
  at: readonly number[],
  gapMs = 0,
): Promise<void> {
  if (!canSplit(connection)) {
    throw new PeerError(
      'ECP_PEER_UNSUPPORTED',
      `a ${connection.transport} message cannot be split across writes`,
    );
  }
  const bytes = Buffer.from(data);
  const cuts = [...new Set(at.filter((offset) => offset > 0 && offset < bytes.length))].sort((a, b) => a - b);
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (start > 0) await pauseFor(gapMs);
    writeRaw(connection, bytes.subarray(start, cut));
    start = cut;
  }
}

/** Ends the connection abruptly: a TCP reset where the transport can send one, else a plain drop. */
export function resetConnection(connection: Connection): void {
  const raw = rawAccess(connection);
  if (raw.kind === 'bytes') raw.reset();
  else connection.destroy();
}

function pauseFor(ms: number): Promise<void> {
  return new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}
