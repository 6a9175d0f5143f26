/**
 * A scenario run more than once (`ecp conformance --repeat K`, `ecp grade --repeat K`): its
 * outcome over the attempts, and the one run the reports describe. A verdict that moves between
 * attempts against the same server is a property of the machine, not of the server: the kit
 * reports it as flaky with its pass count instead of hiding it behind one lucky or unlucky run.
 */
import type { ScenarioResult } from './results.ts';
import type { ConformanceRun } from './runner.ts';

/** `flaky`: passed on some attempts and failed on others. */
export type ScenarioOutcome = 'passed' | 'failed' | 'flaky' | 'skipped';

/**
 * A scenario's outcome over its attempts: passed every time, failed every time, or flaky. An
 * attempt that was skipped (not checkable that time) counts neither way.
 */
export function outcomeOf(attempts: readonly string[]): ScenarioOutcome {
  const judged = attempts.filter((status) => status !== 'skipped');
  if (judged.length === 0) return 'skipped';
  const passes = judged.filter((status) => status === 'passed').length;
  if (passes === judged.length) return 'passed';
  return passes > 0 ? 'flaky' : 'failed';
}

/** Per scenario (by location), the status of each attempt, first run first. */
export type Attempts = ReadonlyMap<string, readonly string[]>;

/**
 * K runs of the same selection as one: each scenario is represented by its first failing attempt
 * (so the reports carry that attempt's failure and evidence), or by its first attempt when none
 * failed; `attempts` keeps every status.
 */
export function mergeRepeats(runs: readonly ConformanceRun[]): { run: ConformanceRun; attempts: Attempts } {
  const [first] = runs;
  if (!first) throw new RangeError('no run to merge');
  const attempts = new Map<string, string[]>();
  const chosen = new Map<string, ScenarioResult>();
  for (const run of runs) {
    for (const result of run.scenarios) {
      const statuses = attempts.get(result.location) ?? [];
      statuses.push(result.status);
      attempts.set(result.location, statuses);
      const held = chosen.get(result.location);
      const failing = (item: ScenarioResult) => item.status !== 'passed' && item.status !== 'skipped';
      if (!held || (!failing(held) && failing(result))) chosen.set(result.location, result);
    }
  }
  return {
    run: {
      ...first,
      durationMs: runs.reduce((sum, run) => sum + run.durationMs, 0),
      scenarios: first.scenarios.map((result) => chosen.get(result.location) ?? result),
    },
    attempts,
  };
}
