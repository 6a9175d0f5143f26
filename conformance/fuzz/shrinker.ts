/**
 * Shrinks a failing history by delta debugging (Zeller's ddmin) over its steps: drop chunks of
 * steps while the history still breaks the same requirement, halving the chunks until no single
 * step can go, then take out the pauses that are not needed. fast-check's shrinking works on the
 * value it generated and re-runs a synchronous or scheduled model; here every candidate is a real
 * run against a real server whose failure is a race, so each candidate is tried several times, and
 * ddmin over the recorded steps is the simpler fit.
 */
import type { History, Step } from './history.ts';

export interface ShrinkOptions {
  /** Whether a candidate still fails (trying it as often as it takes). */
  fails: (history: History) => Promise<boolean>;
  /** Give up shrinking further at this time (performance.now()). */
  deadline: number;
}

export async function shrinkHistory(history: History, options: ShrinkOptions): Promise<Step[]> {
  let current = [...history];
  let chunks = 2;
  while (current.length >= 2 && performance.now() < options.deadline) {
    const size = Math.ceil(current.length / chunks);
    let reduced = false;
    for (let start = 0; start < current.length && performance.now() < options.deadline; start += size) {
      const candidate = [...current.slice(0, start), ...current.slice(start + size)];
      if (candidate.length > 0 && (await options.fails(candidate))) {
        current = candidate;
        chunks = Math.max(chunks - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size <= 1) break;
      chunks = Math.min(current.length, chunks * 2);
    }
  }
  for (let i = 0; i < current.length && performance.now() < options.deadline; i++) {
    if (current[i]!.pauseMs === 0) continue;
    const candidate = current.map((step, index) => (index === i ? { ...step, pauseMs: 0 } : step));
    if (await options.fails(candidate)) current = candidate;
  }
  return renumberClients(current);
}

/** Clients numbered 1, 2, ... in order of first appearance, so the shrunk history reads simply. */
export function renumberClients(history: History): Step[] {
  const numbers = new Map<number, number>();
  return history.map((step) => {
    if (!numbers.has(step.client)) numbers.set(step.client, numbers.size + 1);
    return { ...step, client: numbers.get(step.client)! };
  });
}

/**
 * How often a scenario repeats a history that failed `failures` of `runs` runs, so that the server
 * fails the scenario at least 19 times in 20: (1 - p)^n <= 1/100, with p the lower end of the
 * 95 % Wilson interval of the measured rate (a machine under other load may see the race less).
 */
export function repeatsFor(failures: number, runs: number): number {
  const z = 1.96;
  const rate = failures / runs;
  const centre = rate + (z * z) / (2 * runs);
  const spread = z * Math.sqrt((rate * (1 - rate)) / runs + (z * z) / (4 * runs * runs));
  const low = Math.max((centre - spread) / (1 + (z * z) / runs), 0.005);
  const needed = Math.ceil(Math.log(1 / 100) / Math.log(1 - low));
  return Math.min(Math.max(needed, 3), 200);
}
