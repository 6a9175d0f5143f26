/** The broadcast benchmark's public API. */
export {
  type BenchHooks,
  DEFAULT_CONFIG,
  parseSweep,
  resolveConfig,
  runBench,
  runSweep,
} from './bench-runner.ts';
export { sweepChartSvg } from './chart.ts';
export { benchCommand } from './command.ts';
export { asBenchReport, compareReports, formatComparison, mannWhitneyU } from './compare.ts';
export { formatMarkdown, formatSweepMarkdown, formatSweepText, formatText } from './report-format.ts';
export * from './report-schema.ts';
export type { RunProgress } from './run-once.ts';
