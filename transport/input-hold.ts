/**
 * Holds what a new client connection receives until its caller listens. connect() resolves a
 * promise, and the caller attaches its listeners only after `await` returns: input that arrived in
 * the same read as the end of the TLS handshake or of the WebSocket upgrade (a server that speaks
 * first, such as "Server full") would otherwise be emitted to nobody and lost.
 */
export class InputHold {
  #queue: (() => void)[] | undefined;

  constructor(active: boolean) {
    this.#queue = active ? [] : undefined;
  }

  get holding(): boolean {
    return this.#queue !== undefined;
  }

  /** Runs `deliver` now, or once released. */
  run(deliver: () => void): void {
    if (this.#queue === undefined) deliver();
    else this.#queue.push(deliver);
  }

  /** Delivers what was held, after the caller's synchronous setup (its listeners) is done. */
  release(): void {
    const queue = this.#queue;
    if (queue === undefined) return;
    this.#queue = undefined;
    queueMicrotask(() => {
      for (const deliver of queue) deliver();
    });
  }
}
