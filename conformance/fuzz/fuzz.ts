/**
 * The fuzz loop: generated histories against one server until the time is up or one breaks a
 * rule; then the failing history shrunk, and how often a scenario must repeat it measured.
 */
import type { Target } from '../../server-under-test/index.ts';
import { ClientKeys } from '../support/client-keys.ts';
import type { Violation } from './checker.ts';
import { type GeneratorOptions, generateHistory } from './generator.ts';
import type { History } from './history.ts';
import { type FuzzProfile, FuzzSession, type Outcome } from './session.ts';
import { repeatsFor, shrinkHistory } from './shrinker.ts';

export interface FuzzOptions extends GeneratorOptions {
  seed: number;
  durationMs: number;
  /** Called after each history. */
  onHistory?: (index: number, elapsedMs: number) => void;
}

export interface Finding {
  /** Which history of the seed (from 0). */
  index: number;
  history: History;
  outcome: Outcome;
}

export interface FuzzResult {
  histories: number;
  durationMs: number;
  finding: Finding | undefined;
}

/** The RSA keys fuzz clients present, round robin: generating one per connection would dominate. */
const KEY_POOL_SIZE = 8;

/** A session of histories against an opened target, its clients holding keys from the kit's pool. */
export async function sessionFor(
  target: Pick<Target, 'endpoint' | 'connectOptions' | 'password'>,
  profile: FuzzProfile = 'all',
): Promise<FuzzSession> {
  const keys = await ClientKeys.create(KEY_POOL_SIZE);
  return new FuzzSession(
    {
      endpoint: target.endpoint,
      connectOptions: target.connectOptions,
      password: target.password,
      nextKey: () => keys.next(),
    },
    profile,
  );
}

export async function fuzzServer(session: FuzzSession, options: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  let index = 0;
  while (performance.now() - started < options.durationMs) {
    const history = generateHistory(options.seed, index, options);
    const outcome = await session.run(history);
    options.onHistory?.(index, performance.now() - started);
    if (outcome.violations.length > 0) {
      return {
        histories: index + 1,
        durationMs: performance.now() - started,
        finding: { index, history, outcome },
      };
    }
    index += 1;
  }
  return { histories: index, durationMs: performance.now() - started, finding: undefined };
}

/** Runs of the found history that say how rare its race is, before shrinking. */
const PROBING_RUNS = 10;
/** Tries of a candidate while shrinking, at least and at most (a rare race needs more). */
const MIN_TRIES = 3;
const MAX_TRIES = 15;

/** Tries that see a race of rate p at least 9 times in 10: (1 - p)^tries <= 1/10. */
function triesFor(failures: number, runs: number): number {
  const rate = Math.max(failures, 1) / runs;
  if (rate >= 1) return MIN_TRIES;
  return Math.min(MAX_TRIES, Math.max(MIN_TRIES, Math.ceil(Math.log(0.1) / Math.log(1 - rate))));
}
/** Runs of the shrunk history that measure how often it fails. */
const MEASURING_RUNS = 20;

export interface Minimal {
  history: History;
  violation: Violation;
  /** A failing run of the minimal history. */
  outcome: Outcome;
  /** How many of MEASURING_RUNS runs failed, and the repeats a scenario needs. */
  failures: number;
  runs: number;
  repeats: number;
}

export async function minimise(session: FuzzSession, finding: Finding, shrinkMs: number): Promise<Minimal> {
  const violation = finding.outcome.violations[0]!;
  let lastFailure = finding.outcome;
  const deadline = performance.now() + shrinkMs;
  let probed = 0;
  let probedFailures = 0;
  while (probed < PROBING_RUNS && performance.now() < deadline) {
    const run = await session.run(finding.history);
    probed += 1;
    if (run.violations.some((item) => item.requirement === violation.requirement)) probedFailures += 1;
  }
  const tries = triesFor(probedFailures, Math.max(probed, 1));
  const history = await shrinkHistory(finding.history, {
    deadline,
    fails: async (candidate) => {
      const outcome = await session.runUntilBroken(candidate, tries, violation.requirement);
      if (outcome) lastFailure = outcome;
      return outcome !== undefined;
    },
  });
  let measured = await measure(session, history, violation.requirement);
  let chosen: History = history;
  // A shrunk history that no longer fails here (a rare race) is worth less than the one that did.
  if (measured.failures === 0 && history.length < finding.history.length) {
    measured = await measure(session, finding.history, violation.requirement);
    chosen = finding.history;
  }
  const { failures } = measured;
  const outcome = measured.outcome ?? lastFailure;
  const shown = outcome.violations.find((item) => item.requirement === violation.requirement) ?? violation;
  return {
    history: chosen,
    violation: shown,
    outcome,
    failures,
    runs: MEASURING_RUNS,
    repeats: repeatsFor(failures, MEASURING_RUNS),
  };
}

/** Runs a history MEASURING_RUNS times: how many broke `requirement`, and the last run that did. */
async function measure(
  session: FuzzSession,
  history: History,
  requirement: string,
): Promise<{ failures: number; outcome: Outcome | undefined }> {
  let failures = 0;
  let outcome: Outcome | undefined;
  for (let i = 0; i < MEASURING_RUNS; i++) {
    const run = await session.run(history);
    if (run.violations.some((item) => item.requirement === requirement)) {
      failures += 1;
      outcome = run;
    }
  }
  return { failures, outcome };
}
