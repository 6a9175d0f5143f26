import { FramingError } from './errors.ts';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface LineDecoderOptions {
  /** Longest accepted line in bytes, not counting the line ending. Default 1 MiB. */
  maxLineBytes?: number;
}

/** What `push` yields, in stream order: a decoded line, or the error that replaced one. */
export type DecodedLine = string | FramingError;

/**
 * Turns a stream of arbitrary chunks into newline-terminated lines.
 *
 * - A line may be split at any byte, including inside a multi-byte UTF-8 character: bytes are
 *   kept until the newline arrives and only then decoded.
 * - `\r\n` endings are accepted; blank lines are skipped (the v1 prototype skips them).
 * - Memory is bounded by `maxLineBytes`: once a partial line passes it, the decoder reports
 *   `ECP_LINE_TOO_LONG` once and discards bytes until the next newline.
 * - Each byte is scanned once: only the new chunk is searched for newlines.
 */
export class LineDecoder {
  readonly maxLineBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;
  #discarding = false;
  // ignoreBOM keeps a leading U+FEFF: a line is delivered exactly as sent.
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(options: LineDecoderOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(this.maxLineBytes) || this.maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${this.maxLineBytes}`);
    }
  }

  /** Bytes held for a line whose newline has not arrived yet. */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  push(chunk: Uint8Array): DecodedLine[] {
    const out: DecodedLine[] = [];
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(NEWLINE, start);
      const end = nl === -1 ? buf.length : nl;
      if (this.#discarding) {
        if (nl !== -1) this.#discarding = false;
      } else if (this.#partBytes + (end - start) > this.maxLineBytes + 1) {
        // One byte of allowance: it may be the '\r' of a '\r\n' ending; #emit checks exactly.
        this.#dropPartial();
        out.push(new FramingError('ECP_LINE_TOO_LONG', `line exceeds ${this.maxLineBytes} bytes; discarded`));
        this.#discarding = nl === -1;
      } else if (nl === -1) {
        // Copied: callers may recycle the chunk once push returns (net's `onread` does).
        this.#parts.push(Buffer.from(buf.subarray(start)));
        this.#partBytes += buf.length - start;
      } else {
        this.#emit(buf.subarray(start, end), out);
      }
      if (nl === -1) break;
      start = nl + 1;
    }
    return out;
  }

  /** Forgets any partial line (the stream ended or was reset). */
  reset(): void {
    this.#dropPartial();
    this.#discarding = false;
  }

  #emit(tail: Buffer, out: DecodedLine[]): void {
    let line: Buffer = tail;
    if (this.#partBytes > 0) {
      this.#parts.push(tail);
      line = Buffer.concat(this.#parts, this.#partBytes + tail.length);
      this.#dropPartial();
    }
    let length = line.length;
    if (length > 0 && line[length - 1] === CARRIAGE_RETURN) length -= 1;
    if (length > this.maxLineBytes) {
      out.push(new FramingError('ECP_LINE_TOO_LONG', `line exceeds ${this.maxLineBytes} bytes; discarded`));
      return;
    }
    if (length === 0) return;
    try {
      out.push(this.#utf8.decode(line.subarray(0, length)));
    } catch (cause) {
      out.push(new FramingError('ECP_INVALID_UTF8', 'line is not valid UTF-8; discarded', { cause }));
    }
  }

  #dropPartial(): void {
    this.#parts = [];
    this.#partBytes = 0;
  }
}
