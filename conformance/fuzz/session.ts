/**
 * Runs histories one after another against one server, each under a tag of its own (names and
 * payloads end with it), so what an earlier history left in the room is told apart from this one.
 */
import { randomBytes } from 'node:crypto';
import { checkTrace, type Violation } from './checker.ts';
import { type ExecutionTarget, executeHistory } from './executor.ts';
import type { History } from './history.ts';
import type { Trace } from './trace.ts';

export interface Outcome {
  trace: Trace;
  violations: Violation[];
}

export class FuzzSession {
  readonly #prefix = randomBytes(2).toString('hex').slice(0, 3);
  #runs = 0;

  constructor(readonly target: ExecutionTarget) {}

  /** Histories run so far. */
  get runs(): number {
    return this.#runs;
  }

  async run(history: History): Promise<Outcome> {
    this.#runs += 1;
    const tag = `-${this.#prefix}${this.#runs.toString(36)}`;
    const trace = await executeHistory(history, this.target, { tag });
    return { trace, violations: checkTrace(trace) };
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
