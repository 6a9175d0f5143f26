/**
 * Picks out bench deliveries among what a bench client receives, cheaply: a plain loop for the
 * `"message":` key near the message's start, a length and prefix check, then the fields decoded
 * from the IV (see payload.ts). No string is made and no JSON is parsed on this path; every other
 * message goes to `other` as bytes, for the client to parse only when it cares.
 */
import { PAYLOAD_PREFIX, type PayloadFields, readPayloadFields } from './payload.ts';

export interface ScanSink {
  /** A bench chat delivery; `line` holds it at [start, end) in case the sink samples it. */
  delivery(fields: PayloadFields, line: Buffer, start: number, end: number): void;
  /** Any other non-blank line, at [start, end) of `line`, without its newline. */
  other(line: Buffer, start: number, end: number): void;
}

const KEY = Buffer.from('"message":', 'ascii');
const PREFIX = Buffer.from(PAYLOAD_PREFIX, 'ascii');

const QUOTE = 0x22;
/** How far into a line the plain loop looks for the key before leaving the rest to native searches. */
const KEY_SEARCH_BYTES = 256;

/** Byte by byte: cheaper than a native `compare` call for a few bytes. */
function hasPrefix(buf: Buffer, at: number): boolean {
  for (let i = 0; i < PREFIX.length; i++) if (buf[at + i] !== PREFIX[i]) return false;
  return true;
}

function isKeyAt(buf: Buffer, at: number): boolean {
  for (let i = 1; i < KEY.length; i++) if (buf[at + i] !== KEY[i]) return false;
  return true;
}

/**
 * Classifies one received message at a time; the transport has already split the stream (a
 * byte stream's lines are handed over in place, without a copy).
 */
export class DeliveryScanner {
  readonly #payloadLength: number;
  readonly #fields: PayloadFields = { sender: 0, seq: 0, scheduledMicros: 0 };

  constructor(payloadLength: number) {
    this.#payloadLength = payloadLength;
  }

  /** Scans the message at buf[start, end), without its line ending. */
  scan(buf: Buffer, start: number, end: number, sink: ScanSink): void {
    if (end === start) return;
    const length = this.#payloadLength;
    // The key of a chat line sits in its first few dozen bytes: a plain loop finds it cheaper than
    // a native search, whose call costs more than the bytes it scans.
    const limit = Math.min(end, start + KEY_SEARCH_BYTES);
    let keyAt = -1;
    for (let i = start; i < limit; i++) {
      if (buf[i] === QUOTE && isKeyAt(buf, i)) {
        keyAt = i;
        break;
      }
    }
    if (keyAt < 0 && limit < end) {
      const found = buf.indexOf(KEY, limit);
      if (found >= 0 && found < end) keyAt = found;
    }
    if (keyAt >= 0) {
      let v = keyAt + KEY.length;
      while (buf[v] === 0x20) v++;
      if (
        buf[v] === QUOTE &&
        v + 1 + length < end &&
        buf[v + 1 + length] === QUOTE &&
        hasPrefix(buf, v + 1) &&
        readPayloadFields(buf, v + 1, this.#fields)
      ) {
        sink.delivery(this.#fields, buf, start, end);
        return;
      }
    }
    sink.other(buf, start, end);
  }
}
