/** Keeps the last `limitBytes` of a process's output, so a chatty server cannot exhaust memory. */
export class OutputTail {
  readonly #limitBytes: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #droppedBytes = 0;

  constructor(limitBytes = 256 * 1024) {
    this.#limitBytes = limitBytes;
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

  text(): string {
    const body = Buffer.concat(this.#chunks).toString('utf8');
    return this.#droppedBytes > 0 ? `[... ${this.#droppedBytes} earlier bytes dropped ...]\n${body}` : body;
  }
}
