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
  const perRun = runs.map(headlineFigures);
  const summary = {} as Record<HeadlineFigure, FigureSummary>;
  for (const figure of Object.keys(HEADLINE_FIGURES) as HeadlineFigure[]) {
    const values = perRun.map((figures) => figures[figure]).filter((v) => Number.isFinite(v));
    summary[figure] =
      values.length === 0
        ? { median: Number.NaN, min: Number.NaN, max: Number.NaN, values: [] }
        : { median: median(values), min: Math.min(...values), max: Math.max(...values), values };
  }
  return summary;
}
