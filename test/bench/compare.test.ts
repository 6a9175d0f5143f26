import { describe, expect, it } from 'vitest';
import { mannWhitneyU } from '../../bench/compare.ts';

describe('mannWhitneyU', () => {
  it('gives the exact two-sided p of a complete separation', () => {
    // 5 vs 5, all of B above A: 2 of C(10,5) = 252 arrangements are as extreme.
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r.exact).toBe(true);
    expect(r.u).toBe(0);
    expect(r.p).toBeCloseTo(2 / 252, 10);
    expect(r.minimumP).toBeCloseTo(2 / 252, 10);
  });

  it('says how small p can get with few runs: 3 vs 3 never goes below 0.1', () => {
    const r = mannWhitneyU([1, 2, 3], [10, 11, 12]);
    expect(r.p).toBeCloseTo(0.1, 10);
    expect(r.minimumP).toBeCloseTo(0.1, 10);
  });

  it('gives p = 1 for identical samples and handles ties', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5]).p).toBe(1);
    expect(mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4]).p).toBeGreaterThan(0.05);
  });

  it('uses a normal approximation for large samples', () => {
    const a = Array.from({ length: 30 }, (_, i) => i);
    const b = Array.from({ length: 30 }, (_, i) => i + 15);
    const r = mannWhitneyU(a, b);
    expect(r.exact).toBe(false);
    expect(r.p).toBeLessThan(0.001);
  });
});
