/**
 * Keeps the last `limitBytes` of a process's output, so a chatty server cannot exhaust memory.
 * Every byte has a position (how many were appended before it), so a reader can mark where the
 * output stood at some moment and later take what came between two marks.
 */
export class OutputTail {
  readonly #limitBytes: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #droppedBytes = 0;

  constructor(limitBytes = 256 * 1024) {
    this.#limitBytes = limitBytes;
  }

  /** The position after the last byte appended: a mark for between(). */
  get end(): number {
    return this.#droppedBytes + this.#bytes;
  }

  append(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes > this.#limitBytes && this.#chunks.length > 1) {
      const first = this.#chunks.shift() as Buffer;
      this.#bytes -= first.length;
      this.#droppedBytes += first.length;
    }
  }

  /** Everything kept. */
  text(): string {
    return this.between(0, this.end);
  }

  /** What was appended from position `from` up to `to`, saying so when its start is no longer kept. */
  between(from: number, to: number): string {
    const start = Math.max(from, this.#droppedBytes);
    const body = Buffer.concat(this.#chunks)
      .subarray(start - this.#droppedBytes, Math.max(start, to) - this.#droppedBytes)
      .toString('utf8');
    return start > from ? `[... ${start - from} earlier bytes dropped ...]\n${body}` : body;
  }
}
