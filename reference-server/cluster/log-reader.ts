/**
 * Reads the room log from the last entry this node delivered, in order, for as long as the node
 * runs: XREAD BLOCK on a connection of its own. Each entry goes to the sink; an entry the sink
 * cannot take in order (a gap) stops the batch while the sink resyncs and moves the position.
 * While the link is down the reader waits; when it is back it goes on from where it stopped, so
 * every entry still in the log is delivered once, in order. The next read is sent before a batch is
 * delivered, so a busy node never waits a round trip for entries already in the log.
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

/** XREAD's answer: for each stream, its entries as [ID, field list]. */
type Reply = [string, [string, string[]][]][];

/** The ID of the last entry of a reply. */
function lastId(reply: Reply): string | undefined {
  return reply.at(-1)?.[1].at(-1)?.[0];
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
    /** A read already sent, and the position it reads from. */
    let ahead: { from: string; reply: Promise<Reply | null> } | undefined;
    while (!this.#stopped) {
      if (!this.#open) {
        ahead = undefined;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      // The read sent ahead counts only if it reads on from where delivery stopped (no resync since).
      const pending = ahead?.from === this.position ? ahead.reply : this.#read(this.position);
      ahead = undefined;
      let reply: Reply | null;
      try {
        reply = await pending;
      } catch {
        // The connection dropped: the room pauses and resumes us once the link is back.
        this.#open = false;
        continue;
      }
      if (reply !== null && !this.#stopped) {
        // The next read goes out before this batch is delivered: Redis holds it blocked and answers
        // it the moment an entry is appended, so entries appended while this node delivers come
        // back as soon as it is free, without a round trip to ask for them once it is.
        // A read sent ahead and then not used (paused, resynced) blocks only while nothing follows
        // its position, so it never holds back an entry the read after it would return.
        const last = lastId(reply);
        if (last !== undefined && this.#open) ahead = { from: last, reply: this.#read(last) };
        await this.#deliver(reply);
      }
      this.#settleWaiters();
    }
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  /** One XREAD from `from`. A read sent ahead and then dropped may fail unobserved: that is fine. */
  #read(from: string): Promise<Reply | null> {
    const reply = this.#redis.call(
      'XREAD',
      'COUNT',
      BATCH_ENTRIES,
      'BLOCK',
      BLOCK_MS,
      'STREAMS',
      this.#logKey,
      from,
    ) as Promise<Reply | null>;
    reply.catch(() => undefined);
    return reply;
  }

  async #deliver(reply: Reply): Promise<void> {
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
