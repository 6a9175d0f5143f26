/** The slowdown after wrong tokens, on a fake clock: growing waits, a cap, forgetting, bounded memory. */
import { describe, expect, it } from 'vitest';
import { FailureThrottle } from '../../../reference-server/admin/failure-throttle.ts';

function throttleAt(settings: Partial<ConstructorParameters<typeof FailureThrottle>[0]> = {}) {
  const clock = { now: 1_000_000 };
  const throttle = new FailureThrottle({
    baseDelayMs: 100,
    maxDelayMs: 1000,
    maxSources: 3,
    forgetAfterMs: 60_000,
    now: () => clock.now,
    ...settings,
  });
  return { throttle, clock };
}

describe('FailureThrottle', () => {
  it('doubles the wait with each failure in a row, up to the cap', () => {
    const { throttle, clock } = throttleAt();
    expect(throttle.waitMs('a')).toBe(0);
    const waits = [];
    for (let i = 0; i < 6; i++) {
      waits.push(throttle.failed('a'));
      clock.now += waits.at(-1)!;
    }
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('makes the source wait, and only that source', () => {
    const { throttle, clock } = throttleAt();
    throttle.failed('a');
    expect(throttle.waitMs('a')).toBe(100);
    expect(throttle.waitMs('b')).toBe(0);
    clock.now += 60;
    expect(throttle.waitMs('a')).toBe(40);
    clock.now += 40;
    expect(throttle.waitMs('a')).toBe(0);
  });

  it('starts over after a success, or after a quiet while', () => {
    const { throttle, clock } = throttleAt();
    throttle.failed('a');
    throttle.failed('a');
    throttle.succeeded('a');
    expect(throttle.failed('a')).toBe(100);
    clock.now += 60_001;
    expect(throttle.waitMs('a')).toBe(0);
    expect(throttle.failed('a')).toBe(100);
  });

  it('remembers at most maxSources sources, forgetting the stalest first', () => {
    const { throttle } = throttleAt();
    for (const source of ['a', 'b', 'c', 'd', 'e']) throttle.failed(source);
    expect(throttle.size).toBe(3);
    expect(throttle.waitMs('a')).toBe(0);
    expect(throttle.waitMs('b')).toBe(0);
    expect(throttle.waitMs('e')).toBe(100);
  });

  it('is off with a base delay of 0', () => {
    const { throttle } = throttleAt({ baseDelayMs: 0 });
    expect(throttle.failed('a')).toBe(0);
    expect(throttle.waitMs('a')).toBe(0);
    expect(throttle.size).toBe(0);
  });
});
