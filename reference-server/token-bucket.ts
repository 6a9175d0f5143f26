/**
 * A token bucket: `perSecond` tokens a second, at most `burst` saved up. The flood control of one
 * connection (`--max-messages-per-second`, `--message-burst`): each message takes one token.
 */
export class TokenBucket {
  readonly perSecond: number;
  readonly burst: number;
  #tokens: number;
  #updatedAt: number | undefined;

  constructor(perSecond: number, burst: number) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) {
      throw new RangeError(`a token bucket needs a positive rate, got ${perSecond}`);
    }
    if (!Number.isInteger(burst) || burst < 1) {
      throw new RangeError(`a token bucket needs a burst of at least 1, got ${burst}`);
    }
    this.perSecond = perSecond;
    this.burst = burst;
    this.#tokens = burst;
  }

  /** Takes a token at `nowMs` and returns 0, or takes none and returns how long until one is due, ms. */
  take(nowMs: number): number {
    if (this.#updatedAt !== undefined) {
      const refill = ((nowMs - this.#updatedAt) * this.perSecond) / 1000;
      this.#tokens = Math.min(this.burst, this.#tokens + Math.max(0, refill));
    }
    this.#updatedAt = nowMs;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return ((1 - this.#tokens) * 1000) / this.perSecond;
  }
}
