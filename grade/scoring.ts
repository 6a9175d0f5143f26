/**
 * Points from outcomes, without I/O: a lab's points are its weight times the share of its
 * checkable scenarios that passed, a flaky scenario counting `flakyCredit` of a pass. Scenarios
 * the kit could not check on this target (skipped) count neither way.
 */
import { outcomeOf, type ScenarioResult } from '../conformance/index.ts';
import type { GradedScenario, LabGrade, LabStatus, ScenarioOutcome, StudentGrade, Verdict } from './model.ts';

export { outcomeOf };

export function gradedScenario(
  result: ScenarioResult,
  laterAttempts: readonly string[] = [],
): GradedScenario {
  const attempts = [result.status, ...laterAttempts];
  return {
    location: result.location,
    name: result.name,
    requirements: result.requirements,
    outcome: outcomeOf(attempts),
    attempts,
  };
}

export function labGrade(
  lab: { number: number; weight: number },
  scenarios: GradedScenario[],
  flakyCredit: number,
  extra: { status?: LabStatus; durationMs?: number; crash?: string } = {},
): LabGrade {
  const count = (outcome: ScenarioOutcome) => scenarios.filter((item) => item.outcome === outcome).length;
  const passed = count('passed');
  const flaky = count('flaky');
  const failed = count('failed');
  const skipped = count('skipped');
  const checkable = scenarios.length - skipped;
  const share = checkable === 0 ? 0 : (passed + flakyCredit * flaky) / checkable;
  const grade: LabGrade = {
    lab: lab.number,
    status: extra.status ?? 'graded',
    points: roundPoints(lab.weight * share),
    weight: lab.weight,
    passed,
    failed,
    flaky,
    skipped,
    total: scenarios.length,
    durationMs: Math.round(extra.durationMs ?? 0),
    scenarios,
  };
  if (extra.crash) grade.crash = extra.crash;
  return grade;
}

/** A lab that did not run: no points, the weight still counts towards what was possible. */
export function emptyLab(lab: { number: number; weight: number }, status: LabStatus): LabGrade {
  return { ...labGrade(lab, [], 0, { status }), points: 0 };
}

/** Two decimals, so 10 × 2/3 is 6.67 and totals add up as printed. */
export function roundPoints(points: number): number {
  return Math.round(points * 100) / 100;
}

/** The row's verdict from its labs: the worst thing that happened, in the order of the type. */
export function verdictOf(labs: readonly LabGrade[], start: Verdict | undefined, timedOut: boolean): Verdict {
  if (start === 'did-not-start' || start === 'no-answer') return start;
  if (timedOut) return 'timed-out';
  if (start === 'crashed' || labs.some((lab) => lab.status === 'crashed' || lab.status === 'did-not-start')) {
    return 'crashed';
  }
  return 'graded';
}

export function totals(labs: readonly LabGrade[]): Pick<StudentGrade, 'total' | 'possible'> {
  return {
    total: roundPoints(labs.reduce((sum, lab) => sum + lab.points, 0)),
    possible: roundPoints(labs.reduce((sum, lab) => sum + lab.weight, 0)),
  };
}
