/**
 * One clock for every thread of the bench: CLOCK_MONOTONIC through `process.hrtime`, which worker
 * threads share with the main thread (unlike `performance.now()`, whose origin is per thread). Send
 * times travel inside payloads and are compared with receive times taken in another thread.
 */
const offsetMicros = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;

/** Microseconds on the process-wide monotonic clock. `performance.now()` plus a per-thread offset is
 * several times cheaper than `hrtime.bigint()` and reads the same clock. */
export function nowMicros(): number {
  return offsetMicros + performance.now() * 1000;
}
