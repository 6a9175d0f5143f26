/**
 * `ecp bench compare A.json B.json`: per headline figure, the medians, the ratio B/A and an exact
 * two-sided Mann-Whitney U test on the per-run values (a rank test: no assumption of normality,
 * which few noisy runs on a shared machine would not support). With few runs the smallest
 * reachable p-value is itself large, and the comparison says so instead of claiming significance.
 */
import { errorFunction, median } from 'simple-statistics';
import { formatNumber } from './report-format.ts';
import { type BenchReport, HEADLINE_FIGURES, type HeadlineFigure, SCHEMA } from './report-schema.ts';

export interface MannWhitneyResult {
  u: number;
  /** Two-sided p-value. */
  p: number;
  /** The smallest two-sided p-value these sample sizes can give at all. */
  minimumP: number;
  exact: boolean;
}

const EXACT_LIMIT = 200_000;

/** Mid-ranks of all values together (ties share the mean of their ranks). */
function midRanks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

/** Every way to pick `k` of `ranks`: the sums of the picked ranks (the rank-sum distribution). */
function rankSums(ranks: number[], k: number): number[] {
  const sums: number[] = [];
  const walk = (start: number, left: number, sum: number) => {
    if (left === 0) {
      sums.push(sum);
      return;
    }
    for (let i = start; i <= ranks.length - left; i++) walk(i + 1, left - 1, sum + ranks[i]!);
  };
  walk(0, k, 0);
  return sums;
}

export function mannWhitneyU(a: number[], b: number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: Number.NaN, p: 1, minimumP: 1, exact: true };
  // Two of the C(n1+n2, n1) arrangements are as extreme as a complete separation, whatever the data.
  const minimumP = Math.min(1, 2 / binomial(n1 + n2, n1));
  const ranks = midRanks([...a, ...b]);
  const rankSumA = ranks.slice(0, n1).reduce((s, r) => s + r, 0);
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const meanSum = (n1 * (n1 + n2 + 1)) / 2;
  const observed = Math.abs(rankSumA - meanSum);
  if (binomial(n1 + n2, n1) <= EXACT_LIMIT) {
    const sums = rankSums(ranks, n1);
    const extreme = sums.filter((s) => Math.abs(s - meanSum) >= observed - 1e-9).length;
    return { u, p: extreme / sums.length, minimumP, exact: true };
  }
  // Normal approximation with tie correction and continuity correction.
  const n = n1 + n2;
  const counts = new Map<number, number>();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  const ties = [...counts.values()].reduce((s, t) => s + (t ** 3 - t), 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  const z = variance > 0 ? Math.max(0, observed - 0.5) / Math.sqrt(variance) : 0;
  return { u, p: Math.min(1, 2 * (1 - normalCdf(z))), minimumP, exact: false };
}

function normalCdf(z: number): number {
  return 0.5 * (1 + errorFunction(z / Math.SQRT2));
}

export type Verdict =
  | 'better'
  | 'worse'
  /** Significant, but the medians differ by less than the smallest change worth reporting. */
  | 'negligible difference'
  | 'no significant difference'
  | 'too few runs to tell'
  | 'no data';

export interface CompareOptions {
  /** Significance level of the test. Default 0.05. */
  alpha?: number;
  /**
   * The smallest relative change of the medians called better or worse. Default 0.01: an open loop
   * at a fixed rate delivers 99,990/s one day and 100,033/s the next, a real but useless difference.
   */
  minChange?: number;
}

export interface FigureComparison {
  figure: HeadlineFigure;
  medianA: number;
  medianB: number;
  /** medianB / medianA. */
  ratio: number;
  test: MannWhitneyResult;
  verdict: Verdict;
}

export function compareReports(
  a: BenchReport,
  b: BenchReport,
  { alpha = 0.05, minChange = 0.01 }: CompareOptions = {},
): FigureComparison[] {
  return (Object.keys(HEADLINE_FIGURES) as HeadlineFigure[]).map((figure) => {
    const valuesA = a.summary[figure]?.values ?? [];
    const valuesB = b.summary[figure]?.values ?? [];
    if (valuesA.length === 0 || valuesB.length === 0) {
      return {
        figure,
        medianA: Number.NaN,
        medianB: Number.NaN,
        ratio: Number.NaN,
        test: mannWhitneyU([], []),
        verdict: 'no data',
      };
    }
    const medianA = median(valuesA);
    const medianB = median(valuesB);
    const test = mannWhitneyU(valuesA, valuesB);
    let verdict: Verdict;
    const change = medianA === 0 ? Number.POSITIVE_INFINITY : Math.abs(medianB / medianA - 1);
    if (test.p <= alpha && medianA !== medianB && change < minChange) {
      verdict = 'negligible difference';
    } else if (test.p <= alpha && medianA !== medianB) {
      const higherIsBetter = HEADLINE_FIGURES[figure].better === 'higher';
      verdict = medianB > medianA === higherIsBetter ? 'better' : 'worse';
    } else if (test.minimumP > alpha) {
      verdict = 'too few runs to tell';
    } else {
      verdict = 'no significant difference';
    }
    return { figure, medianA, medianB, ratio: medianA === 0 ? Number.NaN : medianB / medianA, test, verdict };
  });
}

/** Checks that parsed JSON is a single-run-set bench report of a schema this version reads. */
export function asBenchReport(json: unknown, source: string): BenchReport {
  const report = json as Partial<BenchReport> | null;
  if (!report || typeof report !== 'object' || report.schema !== SCHEMA) {
    throw new Error(`${source}: not an ${SCHEMA} report (schema ${JSON.stringify(report?.schema)})`);
  }
  if (report.kind !== 'single')
    throw new Error(`${source}: a ${report.kind} report; compare takes single bench reports`);
  return report as BenchReport;
}

export function formatComparison(
  a: BenchReport,
  b: BenchReport,
  rows: FigureComparison[],
  { alpha = 0.05, minChange = 0.01 }: CompareOptions = {},
): string {
  const header = ['', 'A median', 'B median', 'B/A', 'p', 'verdict (B vs A)'];
  const table = rows.map((r) => [
    HEADLINE_FIGURES[r.figure].label,
    formatNumber(r.medianA, HEADLINE_FIGURES[r.figure].digits),
    formatNumber(r.medianB, HEADLINE_FIGURES[r.figure].digits),
    Number.isFinite(r.ratio) ? `${r.ratio.toFixed(3)}x` : '-',
    r.verdict === 'no data' ? '-' : r.test.p.toFixed(3),
    r.verdict,
  ]);
  const all = [header, ...table];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const lines = [
    `A: ${a.label ?? a.target.description} (${a.runs.length} runs, ${a.createdAt})`,
    `B: ${b.label ?? b.target.description} (${b.runs.length} runs, ${b.createdAt})`,
    `Exact two-sided Mann-Whitney U test on per-run values, alpha ${alpha}; changes under ${minChange * 100}% are negligible.`,
    '',
    ...all.map((row) =>
      row
        .map((cell, i) => (i === 0 || i === 5 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    ),
  ];
  const minimumP = rows.find((r) => r.verdict !== 'no data')?.test.minimumP ?? 0;
  if (minimumP > alpha) {
    lines.push(
      '',
      `With ${a.runs.length} and ${b.runs.length} runs the smallest p-value possible is ${minimumP.toFixed(3)}, above ${alpha}: ` +
        'no difference can be called significant. Use --runs 5 or more on each side (5 and 5 reach p = 0.008).',
    );
  }
  if (JSON.stringify(a.config) !== JSON.stringify(b.config)) {
    lines.push('', 'Note: the two reports were made with different bench configurations.');
  }
  return `${lines.join('\n')}\n`;
}
