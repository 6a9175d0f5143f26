import { describe, expect, it } from 'vitest';
import { compareReports, mannWhitneyU } from '../../bench/compare.ts';
import { type BenchReport, HEADLINE_FIGURES, type HeadlineFigure } from '../../bench/report-schema.ts';

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

/** A report whose runs gave these values of each figure (the rest as 0). */
function reportWith(values: Partial<Record<HeadlineFigure, number[]>>, runs: number): BenchReport {
  const summary = Object.fromEntries(
    (Object.keys(HEADLINE_FIGURES) as HeadlineFigure[]).map((figure) => {
      const v = values[figure] ?? new Array<number>(runs).fill(0);
      return [figure, { median: 0, min: 0, max: 0, values: v }];
    }),
  );
  return { summary } as unknown as BenchReport;
}

describe('compareReports', () => {
  it('calls a separated figure better or worse by which way is better for it', () => {
    const a = reportWith({ deliveriesPerSecond: [10, 11, 12, 13, 14], latencyP99Ms: [1, 2, 3, 4, 5] }, 5);
    const b = reportWith({ deliveriesPerSecond: [20, 21, 22, 23, 24], latencyP99Ms: [6, 7, 8, 9, 10] }, 5);
    const rows = new Map(compareReports(a, b).map((row) => [row.figure, row]));
    expect(rows.get('deliveriesPerSecond')).toMatchObject({ verdict: 'better', medianA: 12, medianB: 22 });
    expect(rows.get('deliveriesPerSecond')!.ratio).toBeCloseTo(22 / 12, 10);
    expect(rows.get('latencyP99Ms')!.verdict).toBe('worse');
    // Equal values on both sides: no difference, not a lack of runs.
    expect(rows.get('lost')!.verdict).toBe('no significant difference');
  });

  it('calls a significant change smaller than the smallest change worth reporting negligible', () => {
    const a = reportWith({ deliveriesPerSecond: [100_030, 100_033, 100_040, 100_095, 100_108] }, 5);
    const b = reportWith({ deliveriesPerSecond: [99_970, 99_974, 99_990, 99_991, 99_997] }, 5);
    const row = (minChange?: number) =>
      compareReports(a, b, { minChange }).find((r) => r.figure === 'deliveriesPerSecond');
    expect(row()?.test.p).toBeLessThan(0.05);
    expect(row()?.verdict).toBe('negligible difference');
    expect(row(0)?.verdict).toBe('worse');
  });

  it('says when the runs are too few for any verdict', () => {
    const a = reportWith({ deliveriesPerSecond: [10, 11, 12] }, 3);
    const b = reportWith({ deliveriesPerSecond: [20, 21, 22] }, 3);
    const row = compareReports(a, b).find((r) => r.figure === 'deliveriesPerSecond');
    expect(row?.verdict).toBe('too few runs to tell');
  });
});
