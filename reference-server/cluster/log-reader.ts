/**
 * Reads the room log from the last entry this node delivered, in order, for as long as the node
 * runs: XREAD BLOCK on a connection of its own. Each entry goes to the sink; an entry the sink
 * cannot take in order (a gap) stops the batch while the sink resyncs and moves the position.
 * While the link is down the reader waits; when it is back it goes on from where it stopped, so
 * every entry still in the log is delivered once, in order.
 */
import type { Redis } from 'ioredis';
import { compareStreamIds } from './log-entry.ts';

/** Entries per read: a batch is delivered in one turn, so outboxes write them together. */
const BATCH_ENTRIES = 512;
/** How long a read waits for new entries before it asks again. */
const BLOCK_MS = 2000;

export interface LogSink {
  /** Delivers one entry; false when it is out of order (a gap) and `resync` must run first. */
  apply(id: string, fields: string[]): boolean;
  /** Puts the sink back in step with the room and returns the log position to read on from. */
  resync(): Promise<string>;
}

export class LogReader {
  /** The ID of the last entry delivered (or skipped over by a resync). */
  position: string;
  readonly #redis: Redis;
  readonly #logKey: string;
  readonly #sink: LogSink;
  #open = false;
  #stopped = false;
  #wake: (() => void) | undefined;
  #waiters: { id: string; resolve: () => void }[] = [];
  #loop: Promise<void> | undefined;

  constructor(redis: Redis, logKey: string, position: string, sink: LogSink) {
    this.#redis = redis;
    this.#logKey = logKey;
    this.position = position;
    this.#sink = sink;
  }

  /** Reads on (again). */
  resume(): void {
    this.#open = true;
    this.#loop ??= this.#run();
    this.#wake?.();
  }

  /** Stops after the read in flight (the link is down). */
  pause(): void {
    this.#open = false;
  }

  /** Resolves once every entry up to `id` was delivered. */
  reached(id: string): Promise<void> {
    if (compareStreamIds(this.position, id) >= 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ id, resolve }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#open = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (!this.#open) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      let reply: unknown;
      try {
        reply = await this.#redis.call(
          'XREAD',
          'COUNT',
          BATCH_ENTRIES,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.#logKey,
          this.position,
        );
      } catch {
        // The connection dropped: the room pauses and resumes us once the link is back.
        this.#open = false;
        continue;
      }
      if (reply !== null && !this.#stopped) await this.#deliver(reply as [string, [string, string[]][]][]);
      this.#settleWaiters();
    }
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  async #deliver(reply: [string, [string, string[]][]][]): Promise<void> {
    for (const [, entries] of reply) {
      for (const [id, fields] of entries) {
        if (this.#sink.apply(id, fields)) {
          this.position = id;
          continue;
        }
        try {
          this.position = await this.#sink.resync();
        } catch {
          // The link dropped meanwhile: the same entry shows the gap again once it is back.
          this.#open = false;
        }
        return;
      }
    }
  }

  #settleWaiters(): void {
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => {
      if (compareStreamIds(this.position, waiter.id) < 0) return true;
      waiter.resolve();
      return false;
    });
  }
}
