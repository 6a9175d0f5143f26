/**
 * Writing exactly what a scenario asks for, below the ECP framing a `Connection` adds: split lines,
 * bytes that are not UTF-8, lines without their line feed, WebSocket frames that are not one
 * message, a TCP reset. The kit's only use of the transport's raw access.
 */
import { type Connection, type RawAccess, rawAccess } from '../../transport/index.ts';

export class RawWire {
  readonly #raw: RawAccess;

  constructor(connection: Connection) {
    this.#raw = rawAccess(connection);
  }

  /** Whether lines travel on a byte stream (raw writes possible) or as WebSocket frames. */
  get framing(): 'bytes' | 'frames' {
    return this.#raw.kind;
  }

  /** Writes bytes as they are on a byte stream; over WebSocket each line of them goes in a text frame of its own. */
  write(bytes: Uint8Array): void {
    const raw = this.#raw;
    if (raw.kind === 'bytes') {
      raw.write(bytes);
      return;
    }
    // A frame per line: what is one write on a byte stream is several messages here.
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf(0x0a, start);
      const end = newline === -1 ? text.length : newline;
      raw.send(text.subarray(start, end), { binary: false });
      start = end + 1;
    }
  }

  /** Sends one WebSocket frame as it is (binary, oversize, two lines in one); WebSocket only. */
  sendFrame(data: string | Buffer, binary: boolean): void {
    if (this.#raw.kind !== 'frames') throw new Error('sendFrame needs a WebSocket connection');
    this.#raw.send(data, { binary });
  }

  /** Ends a byte stream with a TCP reset (RST); WebSocket has none (drop the connection instead). */
  reset(): void {
    if (this.#raw.kind !== 'bytes') throw new Error('a reset needs a byte-stream connection');
    this.#raw.reset();
  }
}
