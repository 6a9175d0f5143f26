/**
 * Slows down token guessing, per source address: after a source's nth failed attempt in a row its
 * requests are refused unchecked for min(base x 2^(n-1), max) ms, so guesses cost time however
 * many connections carry them. A success clears the record. Memory is bounded: at most
 * `maxSources` sources are remembered, the one that failed least recently forgotten first, and a
 * record older than `forgetAfterMs` counts as none.
 */

export interface ThrottleSettings {
  /** The wait after a first failure, ms; 0 turns the throttle off. */
  baseDelayMs: number;
  /** The longest wait, ms. */
  maxDelayMs: number;
  maxSources: number;
  /** A source quiet for this long starts again from its first failure, ms. */
  forgetAfterMs: number;
  now: () => number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  baseDelayMs: 500,
  maxDelayMs: 60_000,
  maxSources: 4096,
  forgetAfterMs: 15 * 60_000,
  now: () => Date.now(),
};

interface FailureRecord {
  failures: number;
  /** No attempt is checked before this time. */
  until: number;
  lastFailure: number;
}

export class FailureThrottle {
  readonly #settings: ThrottleSettings;
  readonly #sources = new Map<string, FailureRecord>();

  constructor(settings: Partial<ThrottleSettings> = {}) {
    this.#settings = { ...DEFAULT_THROTTLE, ...settings };
  }

  /** Sources remembered now (at most `maxSources`). */
  get size(): number {
    return this.#sources.size;
  }

  /** How long `source` must still wait before an attempt is checked, ms; 0 when it may try now. */
  waitMs(source: string): number {
    const record = this.#current(source);
    return record === undefined ? 0 : Math.max(0, record.until - this.#settings.now());
  }

  /** Records a failed attempt; returns how long the source must now wait, ms. */
  failed(source: string): number {
    const { baseDelayMs, maxDelayMs, maxSources, now } = this.#settings;
    if (baseDelayMs <= 0) return 0;
    const time = now();
    const failures = (this.#current(source)?.failures ?? 0) + 1;
    const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - 1, 30));
    // Re-inserted, so the map's order is the order of last failures: the first is the stalest.
    this.#sources.delete(source);
    if (this.#sources.size >= maxSources) {
      const stalest = this.#sources.keys().next().value;
      if (stalest !== undefined) this.#sources.delete(stalest);
    }
    this.#sources.set(source, { failures, until: time + delay, lastFailure: time });
    return delay;
  }

  succeeded(source: string): void {
    this.#sources.delete(source);
  }

  #current(source: string): FailureRecord | undefined {
    const record = this.#sources.get(source);
    if (record === undefined) return undefined;
    if (this.#settings.now() - record.lastFailure > this.#settings.forgetAfterMs) {
      this.#sources.delete(source);
      return undefined;
    }
    return record;
  }
}
