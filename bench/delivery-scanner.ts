/**
 * Splits what a bench client receives into lines and picks out bench deliveries cheaply: a plain
 * loop for the `"message":` key near the line's start, a native search for the newline, a length
 * and prefix check, then the fields decoded from the IV (see payload.ts). No string is made and no JSON is parsed on this
 * path; every other line goes to `other` as bytes, for the client to parse only when it cares.
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

const NEWLINE = 0x0a;
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

export class DeliveryScanner {
  readonly #payloadLength: number;
  readonly #maxLineBytes: number;
  #tail: Buffer | undefined;
  #overlong = false;
  readonly #fields: PayloadFields = { sender: 0, seq: 0, scheduledMicros: 0 };
  /** Lines dropped for being longer than `maxLineBytes`. */
  overlongLines = 0;

  constructor(payloadLength: number, maxLineBytes = 16 * 1024 * 1024) {
    this.#payloadLength = payloadLength;
    this.#maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer, sink: ScanSink): void {
    let pos = 0;
    if (this.#tail !== undefined || this.#overlong) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.#keepTail(chunk);
        return;
      }
      if (this.#overlong) {
        this.#overlong = false;
      } else if ((this.#tail as Buffer).length + newline > this.#maxLineBytes) {
        this.overlongLines++;
      } else {
        const line = Buffer.concat([this.#tail as Buffer, chunk.subarray(0, newline + 1)]);
        this.#scan(line, 0, line.length, sink);
      }
      this.#tail = undefined;
      pos = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= pos) {
      this.#scan(chunk, pos, lastNewline + 1, sink);
      pos = lastNewline + 1;
    }
    if (pos < chunk.length) this.#keepTail(chunk.subarray(pos));
  }

  #keepTail(part: Buffer): void {
    if (this.#overlong) return;
    const length = (this.#tail?.length ?? 0) + part.length;
    if (length > this.#maxLineBytes) {
      this.#tail = undefined;
      this.#overlong = true;
      this.overlongLines++;
      return;
    }
    // A copy, so the tail does not pin a whole socket chunk.
    this.#tail = this.#tail === undefined ? Buffer.from(part) : Buffer.concat([this.#tail, part]);
  }

  /** Scans complete lines in [from, to); `to` is just past a newline. */
  #scan(buf: Buffer, from: number, to: number, sink: ScanSink): void {
    const length = this.#payloadLength;
    let pos = from;
    while (pos < to) {
      // The key of a chat line sits in its first few dozen bytes: a plain loop finds it (or the end
      // of a short line) cheaper than a native search, whose call costs more than the bytes it scans.
      const limit = Math.min(to, pos + KEY_SEARCH_BYTES);
      let keyAt = -1;
      let newline = -1;
      for (let i = pos; i < limit; i++) {
        const byte = buf[i];
        if (byte === NEWLINE) {
          newline = i;
          break;
        }
        if (byte === QUOTE && isKeyAt(buf, i)) {
          keyAt = i;
          break;
        }
      }
      if (newline < 0) {
        newline = buf.indexOf(NEWLINE, keyAt < 0 ? limit : keyAt);
        if (keyAt < 0 && limit < newline) {
          const found = buf.indexOf(KEY, limit);
          if (found >= 0 && found < newline) keyAt = found;
        }
      }
      let end = newline;
      if (end > pos && buf[end - 1] === 0x0d) end--;
      if (end === pos) {
        pos = newline + 1;
        continue;
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
          sink.delivery(this.#fields, buf, pos, end);
          pos = newline + 1;
          continue;
        }
      }
      sink.other(buf, pos, end);
      pos = newline + 1;
    }
  }
}
