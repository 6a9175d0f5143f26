/**
 * The node's link to Redis: two connections, because a blocking XREAD holds its connection.
 * `writer` runs the scripts and never queues while down (the room keeps its own bounded queue and
 * decides what is resent); `reader` only reads the log. Both reconnect by themselves with
 * exponential backoff; the link is up when both are ready, and says so on every change.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import * as scripts from './scripts.ts';

export type ScriptName = keyof typeof scripts;

/** Reconnect after 50 ms, doubling to at most 2 s, with jitter so nodes do not all knock at once. */
export function reconnectDelayMs(attempt: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

export interface LinkEvents {
  /** Both connections are ready (again). */
  onUp(): void;
  /** One of them dropped. */
  onDown(): void;
}

export class ClusterLink {
  readonly writer: Redis;
  readonly reader: Redis;
  readonly #logger: Logger;
  #up = false;
  #closing = false;
  /** Times a connection was re-established after a drop. */
  reconnects = 0;
  #events: LinkEvents | undefined;

  constructor(url: string, logger: Logger) {
    this.#logger = logger;
    const common: RedisOptions = {
      lazyConnect: true,
      retryStrategy: (attempt) => (this.#closing ? null : reconnectDelayMs(attempt)),
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: 'ecp-node',
    };
    this.writer = new Redis(url, { ...common, enableAutoPipelining: true });
    this.reader = new Redis(url, common);
    for (const [role, redis] of [
      ['writer', this.writer],
      ['reader', this.reader],
    ] as const) {
      for (const [name, script] of Object.entries(scripts)) {
        redis.defineCommand(name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
      }
      redis.on('ready', () => this.#update());
      redis.on('close', () => this.#update());
      redis.on('reconnecting', (delayMs: number) => {
        this.reconnects++;
        this.#logger.warn({ role, delayMs: Math.round(delayMs) }, 'cluster link reconnecting');
      });
      // ioredis reports every failed attempt here; the state changes are what we log.
      redis.on('error', (error: Error) => {
        if (this.#up) this.#logger.warn({ role, err: error.message }, 'cluster link error');
      });
    }
  }

  get up(): boolean {
    return this.#up;
  }

  /** Connects both; rejects if Redis does not answer within `timeoutMs`. */
  async connect(events: LinkEvents, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all([readyOnce(this.writer), readyOnce(this.reader)]), deadline]);
    } catch (error) {
      this.disconnect();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#up = true;
    this.#events = events;
  }

  /** Runs one of scripts.ts on the writer. */
  run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const command = (this.writer as unknown as Record<string, (...values: unknown[]) => Promise<unknown>>)[
      name
    ]!;
    return command.call(this.writer, ...keys, ...args);
  }

  /** Ends both connections now (what was in flight fails). */
  disconnect(): void {
    this.#closing = true;
    this.#up = false;
    this.writer.disconnect();
    this.reader.disconnect();
  }

  /** Ends both connections after what was sent is answered. */
  async quit(): Promise<void> {
    this.#closing = true;
    this.#up = false;
    await Promise.allSettled([this.writer.quit(), this.reader.quit()]);
    this.disconnect();
  }

  #update(): void {
    if (this.#events === undefined || this.#closing) return;
    const up = this.writer.status === 'ready' && this.reader.status === 'ready';
    if (up === this.#up) return;
    this.#up = up;
    if (up) {
      this.#logger.info({ reconnects: this.reconnects }, 'cluster link up');
      this.#events.onUp();
    } else {
      this.#logger.warn('cluster link down');
      this.#events.onDown();
    }
  }
}

function readyOnce(redis: Redis): Promise<void> {
  return new Promise((resolve) => {
    redis.once('ready', () => resolve());
    redis.connect().catch(() => {
      // Not reachable yet: ioredis retries by itself; the deadline decides.
    });
  });
}
