/**
 * The lines a test client received, with a read position: expectations consume lines up to the
 * one they wait for, so the next expectation looks only at what came after. Every wait ends when
 * something changes, the time is up, or the connection ends.
 */
import type { LineMatch, ReceivedLine } from './received-line.ts';

type Waiter = () => void;

export class LineInbox {
  readonly lines: ReceivedLine[] = [];
  #cursor = 0;
  readonly #waiters = new Set<Waiter>();

  /** `isOpen` says whether more can still arrive. */
  constructor(private readonly isOpen: () => boolean) {}

  /** The lines not yet consumed by an expectation. */
  get unread(): readonly ReceivedLine[] {
    return this.lines.slice(this.#cursor);
  }

  add(line: ReceivedLine): void {
    this.lines.push(line);
    this.changed();
  }

  /** Wakes every wait: a line arrived, the connection ended, or something else a condition reads. */
  changed(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }

  /**
   * Waits for the first unread line that matches, and consumes every line up to it. Resolves
   * undefined when `timeoutMs` passes or the connection ends first.
   */
  async next(match: LineMatch, timeoutMs: number): Promise<ReceivedLine | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (let index = this.#cursor; index < this.lines.length; index += 1) {
        const line = this.lines[index]!;
        if (match(line)) {
          this.#cursor = index + 1;
          return line;
        }
      }
      if (!this.isOpen()) return undefined;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      await this.#nextChange(remaining);
    }
  }

  /** Waits until at least `count` lines are unread, or the time is up or the connection ends. */
  async waitForUnread(count: number, timeoutMs: number): Promise<readonly ReceivedLine[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.unread.length < count && this.isOpen()) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      await this.#nextChange(remaining);
    }
    return this.unread;
  }

  /** Resolves true once `condition()` holds (checked on every change), false after `timeoutMs`. */
  async waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - performance.now();
      if (remaining <= 0 || !this.isOpen()) return condition();
      await this.#nextChange(remaining);
    }
    return true;
  }

  /** Resolves true once the connection has ended, false if it is still open after `timeoutMs`. */
  async waitForEnd(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.isOpen()) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      await this.#nextChange(remaining);
    }
    return true;
  }

  /** Marks every line up to and including `line` as read; returns it. */
  readPast(line: ReceivedLine): ReceivedLine {
    this.#cursor = Math.max(this.#cursor, line.index + 1);
    return line;
  }

  /** Marks `count` unread lines as read. */
  consume(count: number): void {
    this.#cursor = Math.min(this.lines.length, this.#cursor + count);
  }

  #nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }
}
