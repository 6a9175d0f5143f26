import { FramingError } from './errors.ts';

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface LineDecoderOptions {
  /** Longest accepted line in bytes, not counting the line ending. Default 1 MiB. */
  maxLineBytes?: number;
  /**
   * Report blank lines (as '') instead of skipping them. Off by default: the v1 prototype skips
   * them. A test kit that checks what a peer sends turns it on.
   */
  keepBlankLines?: boolean;
}

/** What `push` yields, in stream order: a decoded line, or the error that replaced one. */
export type DecodedLine = string | FramingError;

/** Where `scan` puts what it finds. */
export interface LineSink {
  /** A complete line at bytes[start, end), without its ending. Valid only during the call. */
  line(bytes: Buffer, start: number, end: number): void;
  /** A line over the limit (ECP_LINE_TOO_LONG), in its place in the stream. */
  error(error: FramingError): void;
}

/**
 * Turns a stream of arbitrary chunks into newline-terminated lines.
 *
 * - A line may be split at any byte, including inside a multi-byte UTF-8 character: bytes are
 *   kept until the newline arrives and only then decoded.
 * - `\r\n` endings are accepted; blank lines are skipped (the v1 prototype skips them).
 * - Memory is bounded by `maxLineBytes`: once a partial line passes it, the decoder reports
 *   `ECP_LINE_TOO_LONG` once and discards bytes until the next newline.
 * - Each byte is scanned once: only the new chunk is searched for newlines.
 *
 * `scan` is the zero-copy core (a line that lies whole in one chunk is handed over in place, not
 * decoded); `push` decodes each line as UTF-8 on top of it.
 */
export class LineDecoder {
  readonly maxLineBytes: number;
  readonly #keepBlankLines: boolean;
  #parts: Buffer[] = [];
  #partBytes = 0;
  #discarding = false;
  // ignoreBOM keeps a leading U+FEFF: a line is delivered exactly as sent.
  readonly #utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  #out: DecodedLine[] = [];
  // Bound once: push() adds no closure per chunk.
  readonly #decodingSink: LineSink = {
    line: (bytes, start, end) => this.#out.push(this.#decode(bytes, start, end)),
    error: (error) => this.#out.push(error),
  };

  constructor(options: LineDecoderOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#keepBlankLines = options.keepBlankLines ?? false;
    if (!Number.isInteger(this.maxLineBytes) || this.maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${this.maxLineBytes}`);
    }
  }

  /** Bytes held for a line whose newline has not arrived yet. */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  /** Decodes every complete line of `chunk` (and what came before it) as UTF-8. */
  push(chunk: Uint8Array): DecodedLine[] {
    this.#out = [];
    this.scan(chunk, this.#decodingSink);
    return this.#out;
  }

  /** Hands every complete line to `sink` without decoding it; a line within one chunk is not copied. */
  scan(chunk: Uint8Array, sink: LineSink): void {
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
        sink.error(this.#tooLong());
        this.#discarding = nl === -1;
      } else if (nl === -1) {
        // Copied: callers may recycle the chunk once scan returns (net's `onread` does).
        this.#parts.push(Buffer.from(buf.subarray(start)));
        this.#partBytes += buf.length - start;
      } else {
        this.#emit(buf, start, end, sink);
      }
      if (nl === -1) break;
      start = nl + 1;
    }
  }

  /**
   * The stream has ended: the bytes of a last line that never got its newline, as an
   * `ECP_UNTERMINATED_LINE` error carrying them, or undefined. The decoder is reset.
   */
  end(): FramingError | undefined {
    const parts = this.#parts;
    const bytes = this.#partBytes;
    this.reset();
    if (bytes === 0) return undefined;
    return new FramingError('ECP_UNTERMINATED_LINE', 'the stream ended inside a line', {
      bytes: Buffer.concat(parts, bytes),
    });
  }

  /** Forgets any partial line (the stream ended or was reset). */
  reset(): void {
    this.#dropPartial();
    this.#discarding = false;
  }

  #emit(buf: Buffer, start: number, end: number, sink: LineSink): void {
    let line = buf;
    let from = start;
    let to = end;
    if (this.#partBytes > 0) {
      this.#parts.push(buf.subarray(start, end));
      line = Buffer.concat(this.#parts, this.#partBytes + (end - start));
      from = 0;
      to = line.length;
      this.#dropPartial();
    }
    if (to > from && line[to - 1] === CARRIAGE_RETURN) to -= 1;
    if (to - from > this.maxLineBytes) {
      sink.error(this.#tooLong());
      return;
    }
    if (to === from && !this.#keepBlankLines) return;
    sink.line(line, from, to);
  }

  #decode(bytes: Buffer, start: number, end: number): DecodedLine {
    try {
      return this.#utf8.decode(bytes.subarray(start, end));
    } catch (cause) {
      return new FramingError('ECP_INVALID_UTF8', 'line is not valid UTF-8; discarded', {
        cause,
        bytes: Buffer.from(bytes.subarray(start, end)),
      });
    }
  }

  #tooLong(): FramingError {
    return new FramingError('ECP_LINE_TOO_LONG', `line exceeds ${this.maxLineBytes} bytes; discarded`);
  }

  #dropPartial(): void {
    this.#parts = [];
    this.#partBytes = 0;
  }
}
