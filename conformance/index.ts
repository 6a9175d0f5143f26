/**
 * The conformance kit as a library: run the features against a target and write the reports.
 *
 *   const run = await runConformance({ target: { kind: 'running', address, password }, profile: 'core' });
 *   const summary = await writeReports('reports', run, loadRequirements());
 *
 * And against a client, the kit playing the room:
 *
 *   const run = await runClientConformance({ command: 'my-client {url} {username} {password}', output: 'json', transport: 'tcp' });
 */
export {
  type ClientConformanceOptions,
  DEFAULT_CLIENT_START_TIMEOUT_MS,
  DEFAULT_CLIENT_TIMEOUT_MS,
  runClientConformance,
} from './client-runner.ts';
export { conformanceCommand, EMBEDDED_LIMITS } from './command.ts';
export { featureText, fuzzServer, sessionFor, transcriptText } from './fuzz/index.ts';
export { JUDGEABLE_SLOW_READER_TIMEOUT_MS, slowReaderTimeoutWarning } from './judgeable-timeout.ts';
export { findLab, LABS, type Lab } from './labs.ts';
export { formatLimits, LIMIT_FLAGS, limitsFromCommand, parseLimitsOption } from './limits-option.ts';
export { PROFILES, type Profile, type ProfileSelection } from './profiles.ts';
export { type Attempts, mergeRepeats, outcomeOf, type ScenarioOutcome } from './repeats.ts';
export { formatMarkdown } from './reports/markdown.ts';
export { buildSummary, type ConformanceSummary, SUMMARY_SCHEMA } from './reports/summary.ts';
export { writeReports } from './reports/write.ts';
export { loadRequirements, type Requirement } from './requirements.ts';
export type { ScenarioResult } from './results.ts';
export {
  type ConformanceOptions,
  type ConformanceRun,
  type PlannedScenario,
  planScenarios,
  runConformance,
  TargetUnavailableError,
} from './runner.ts';
export { traceRequirements } from './traceability.ts';
