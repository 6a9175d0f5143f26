/** Median and spread of each headline figure over a bench's runs. */
import { median } from 'simple-statistics';
import {
  type FigureSummary,
  HEADLINE_FIGURES,
  type HeadlineFigure,
  headlineFigures,
  type RunResult,
} from './report-schema.ts';

export function summarizeRuns(runs: RunResult[]): Record<HeadlineFigure, FigureSummary> {
  return summarizeFigures(runs.map(headlineFigures), Object.keys(HEADLINE_FIGURES) as HeadlineFigure[]);
}

/** Median and spread of each figure over per-run values; a figure no run has (NaN) has none. */
export function summarizeFigures<F extends string>(
  perRun: Record<F, number>[],
  figures: readonly F[],
): Record<F, FigureSummary> {
  const summary = {} as Record<F, FigureSummary>;
  for (const figure of figures) {
    const values = perRun.map((figures) => figures[figure]).filter((v) => Number.isFinite(v));
    summary[figure] =
      values.length === 0
        ? { median: Number.NaN, min: Number.NaN, max: Number.NaN, values: [] }
        : { median: median(values), min: Math.min(...values), max: Math.max(...values), values };
  }
  return summary;
}
