/**
 * Runs histories one after another against one server, each under a tag of its own (names and
 * payloads end with it), so what an earlier history left in the room is told apart from this one.
 */
import { randomBytes } from 'node:crypto';
import { loadRequirements } from '../requirements.ts';
import { checkTrace, type Violation } from './checker.ts';
import { type ExecutionTarget, executeHistory } from './executor.ts';
import type { History } from './history.ts';
import type { Trace } from './trace.ts';

export interface Outcome {
  trace: Trace;
  violations: Violation[];
}

/**
 * Which broken rules count: `all` (every requirement the model checks, and the room order) or
 * `core` (the MUSTs only, as the conformance profile: what a server that behaves as the original
 * prototype was measured to must meet).
 */
export type FuzzProfile = 'all' | 'core';
export const FUZZ_PROFILES: readonly FuzzProfile[] = ['all', 'core'];

function countedBy(profile: FuzzProfile): (violation: Violation) => boolean {
  if (profile === 'all') return () => true;
  const musts = new Set(
    loadRequirements()
      .filter((item) => item.level === 'MUST' || item.level === 'MUST NOT')
      .map((item) => item.id),
  );
  return (violation) => musts.has(violation.requirement);
}

export class FuzzSession {
  readonly #prefix = randomBytes(2).toString('hex').slice(0, 3);
  readonly #counts: (violation: Violation) => boolean;
  #runs = 0;

  constructor(
    readonly target: ExecutionTarget,
    profile: FuzzProfile = 'all',
  ) {
    this.#counts = countedBy(profile);
  }

  /** Histories run so far. */
  get runs(): number {
    return this.#runs;
  }

  async run(history: History): Promise<Outcome> {
    this.#runs += 1;
    const tag = `-${this.#prefix}${this.#runs.toString(36)}`;
    const trace = await executeHistory(history, this.target, { tag });
    return { trace, violations: checkTrace(trace).filter(this.#counts) };
  }

  /** Runs `history` up to `times` times; the first outcome that breaks `requirement` (any, if undefined). */
  async runUntilBroken(history: History, times: number, requirement?: string): Promise<Outcome | undefined> {
    for (let i = 0; i < times; i++) {
      const outcome = await this.run(history);
      if (outcome.violations.some((item) => requirement === undefined || item.requirement === requirement))
        return outcome;
    }
    return undefined;
  }
}
