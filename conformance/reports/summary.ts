/**
 * The machine-readable summary of a run (schema `ecp-conformance/1`, documented in
 * docs/conformance.md): per profile and per requirement tallies, and every scenario's verdict.
 */
import { findLab } from '../labs.ts';
import { PROFILES, type Profile } from '../profiles.ts';
import { type Attempts, outcomeOf, type ScenarioOutcome } from '../repeats.ts';
import type { Requirement } from '../requirements.ts';
import type { ScenarioResult, ScenarioStatus } from '../results.ts';
import type { ConformanceRun } from '../runner.ts';
import { BLOCKED_PREFIX } from '../support/prerequisites.ts';

export const SUMMARY_SCHEMA = 'ecp-conformance/1';

export interface Tally {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

export interface RequirementVerdict {
  id: string;
  level: Requirement['level'] | 'unknown';
  text: string;
  /** failed if any scenario naming it failed; passed if all that ran passed; skipped if none ran. */
  status: 'passed' | 'failed' | 'skipped';
  scenarios: number;
}

/** One lab's tally: the scenarios of that lab the run selected. */
export interface LabTally extends Tally {
  lab: number;
  title: string;
}

export interface SummaryScenario {
  location: string;
  feature: string;
  name: string;
  profile: Profile | null;
  /** The scenario's lab (`@lab-N`); null for one without (an instructor's feature, say). */
  lab: number | null;
  requirements: string[];
  status: ScenarioStatus;
  durationMs: number;
  notes: string[];
  failure: { step: string; message: string } | null;
  /** Files under the report directory holding this scenario's evidence (transcripts, server output). */
  evidence: string[];
  /**
   * With `--repeat K`: every attempt's status, first run first, how many passed, and the outcome
   * over them (`status` is then the first failing attempt's, whose failure and evidence are shown).
   */
  repeats: { attempts: string[]; passed: number; outcome: ScenarioOutcome } | null;
}

export interface ConformanceSummary {
  schema: typeof SUMMARY_SCHEMA;
  verdict: 'pass' | 'fail';
  target: ConformanceRun['target'];
  profile: ConformanceRun['profile'];
  tags: string | null;
  /** `--lab N` (with `--only`: lab N alone), `--section`; null when not given. */
  lab: number | null;
  onlyLab: boolean;
  sections: string[];
  startedAt: string;
  durationMs: number;
  timeoutMs: number;
  /** The seed of the run's random inputs: `ecp conformance --seed N` sends the same bytes again. Absent where no input is random (the client scenarios). */
  seed?: number;
  limits: ConformanceRun['limits'];
  /** How many times each scenario ran (`--repeat K`; 1 by default). */
  repeat: number;
  /** With `--repeat K`: scenarios that passed on some attempts and failed on others. */
  flaky: number;
  /**
   * Prerequisites (connecting, joining the room) that failed, said once: where they failed, and how
   * many later scenarios that need them were ended at once (their failure starts `blocked: `).
   */
  blocked: { reason: string; scenarios: number }[];
  totals: Tally;
  profiles: Record<Profile, Tally>;
  /** Per lab that had a selected scenario, in lab order. */
  labs: LabTally[];
  requirements: RequirementVerdict[];
  scenarios: SummaryScenario[];
}

/** Scenarios that count against a server: anything that ran and did not pass or skip on purpose. */
export function isFailure(status: ScenarioStatus): boolean {
  return status !== 'passed' && status !== 'skipped';
}

export function tally(scenarios: readonly ScenarioResult[]): Tally {
  return {
    total: scenarios.length,
    passed: scenarios.filter((item) => item.status === 'passed').length,
    failed: scenarios.filter((item) => isFailure(item.status)).length,
    skipped: scenarios.filter((item) => item.status === 'skipped').length,
  };
}

export function buildSummary(
  run: ConformanceRun,
  requirements: readonly Requirement[],
  evidence: ReadonlyMap<ScenarioResult, string[]> = new Map(),
  attempts: Attempts = new Map(),
): ConformanceSummary {
  const repeat = Math.max(1, ...[...attempts.values()].map((statuses) => statuses.length));
  const repeatsOf = (item: ScenarioResult): SummaryScenario['repeats'] => {
    const statuses = attempts.get(item.location);
    if (repeat === 1 || !statuses) return null;
    return {
      attempts: [...statuses],
      passed: statuses.filter((status) => status === 'passed').length,
      outcome: outcomeOf(statuses),
    };
  };
  const scenarios = run.scenarios;
  const profiles = Object.fromEntries(
    PROFILES.map((profile) => [profile, tally(scenarios.filter((item) => item.profile === profile))]),
  ) as Record<Profile, Tally>;
  const totals = tally(scenarios);
  return {
    schema: SUMMARY_SCHEMA,
    verdict: totals.failed === 0 ? 'pass' : 'fail',
    target: run.target,
    profile: run.profile,
    tags: run.tags ?? null,
    lab: run.lab ?? null,
    onlyLab: run.onlyLab ?? false,
    sections: run.sections ?? [],
    startedAt: run.startedAt.toISOString(),
    durationMs: Math.round(run.durationMs),
    timeoutMs: run.timeoutMs,
    ...(run.seed !== undefined ? { seed: run.seed } : {}),
    limits: run.limits,
    repeat,
    flaky: scenarios.filter((item) => repeatsOf(item)?.outcome === 'flaky').length,
    blocked: blockedBy(scenarios),
    totals,
    profiles,
    labs: labTallies(scenarios),
    requirements: requirementVerdicts(scenarios, requirements),
    scenarios: scenarios.map((item) => ({
      location: item.location,
      feature: item.feature,
      name: item.name,
      profile: item.profile ?? null,
      lab: item.lab ?? null,
      requirements: item.requirements,
      status: item.status,
      durationMs: Math.round(item.durationMs),
      notes: item.notes,
      failure: item.failure ?? null,
      evidence: evidence.get(item) ?? [],
      repeats: repeatsOf(item),
    })),
  };
}

/** A blocked scenario's reason (the prerequisite and where it failed), or undefined. */
export function blockedReason(failure: { message: string } | null | undefined): string | undefined {
  if (!failure?.message.startsWith(BLOCKED_PREFIX)) return undefined;
  return failure.message.slice(BLOCKED_PREFIX.length).split(';')[0];
}

function blockedBy(scenarios: readonly ScenarioResult[]): ConformanceSummary['blocked'] {
  const counts = new Map<string, number>();
  for (const item of scenarios) {
    const reason = isFailure(item.status) ? blockedReason(item.failure) : undefined;
    if (reason !== undefined) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].map(([reason, count]) => ({ reason, scenarios: count }));
}

export function labTallies(scenarios: readonly ScenarioResult[]): LabTally[] {
  const numbers = [...new Set(scenarios.flatMap((item) => (item.lab === undefined ? [] : [item.lab])))];
  return numbers
    .sort((a, b) => a - b)
    .map((lab) => ({
      lab,
      title: findLab(lab)?.title ?? `lab ${lab}`,
      ...tally(scenarios.filter((item) => item.lab === lab)),
    }));
}

/** `lab 1 21/21 · lab 2 17/19 · lab 10 0/0 (11 skipped)`: passed of those checked, per lab. */
export function labLine(labs: readonly LabTally[]): string {
  return labs
    .map(
      ({ lab, passed, total, skipped }) =>
        `lab ${lab} ${passed}/${total - skipped}${skipped > 0 ? ` (${skipped} skipped)` : ''}`,
    )
    .join(' · ');
}

/** One verdict per requirement the run touched, in the document's order. */
function requirementVerdicts(
  scenarios: readonly ScenarioResult[],
  requirements: readonly Requirement[],
): RequirementVerdict[] {
  const known = new Map(requirements.map((item) => [item.id, item]));
  const order = new Map(requirements.map((item, index) => [item.id, index]));
  const ids = [...new Set(scenarios.flatMap((item) => item.requirements))].sort(
    (a, b) => (order.get(a) ?? Number.MAX_SAFE_INTEGER) - (order.get(b) ?? Number.MAX_SAFE_INTEGER),
  );
  return ids.map((id) => {
    const naming = scenarios.filter((item) => item.requirements.includes(id));
    const ran = naming.filter((item) => item.status !== 'skipped');
    const status = naming.some((item) => isFailure(item.status))
      ? 'failed'
      : ran.length > 0
        ? 'passed'
        : 'skipped';
    const requirement = known.get(id);
    return {
      id,
      level: requirement?.level ?? 'unknown',
      text: requirement?.text ?? '(not in docs/protocol.md)',
      status,
      scenarios: naming.length,
    };
  });
}

/** `core 40/40 · strict 11/12 · robustness 6/9`, only for the profiles that ran. */
export function profileLine(profiles: Record<Profile, Tally>): string {
  return PROFILES.filter((profile) => profiles[profile].total > 0)
    .map((profile) => {
      const { passed, total, skipped } = profiles[profile];
      return `${profile} ${passed}/${total - skipped}${skipped > 0 ? ` (${skipped} skipped)` : ''}`;
    })
    .join(' · ');
}
