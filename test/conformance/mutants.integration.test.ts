/**
 * Self-validation by mutation: the kit runs against each deliberately broken server and must catch
 * it with the scenario expected to. The kill rate is printed at the end.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { EMBEDDED_LIMITS } from '../../conformance/command.ts';
import { FaultProxy, MUTANTS, mutantSlug } from '../../conformance/mutants/index.ts';
import { runConformance } from '../../conformance/runner.ts';

const killed: string[] = [];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('the conformance kit catches every mutant', () => {
  afterAll(() => {
    const rate = ((100 * killed.length) / MUTANTS.length).toFixed(0);
    console.log(`mutants killed: ${killed.length}/${MUTANTS.length} (${rate}%)`);
  });

  it('names every mutant uniquely, also as a command-line slug', () => {
    expect(new Set(MUTANTS.map(mutantSlug)).size).toBe(MUTANTS.length);
  });

  for (const mutant of MUTANTS) {
    it(`${mutant.name}: ${mutant.fault}`, async () => {
      const run = await runConformance({
        target: {
          kind: 'embedded',
          start: FaultProxy.starter(mutant.build),
          limits: EMBEDDED_LIMITS,
          label: `mutant '${mutant.name}'`,
        },
        limits: EMBEDDED_LIMITS,
        tags: `@${mutant.requirement}`,
        // Just the scenario expected to catch it (an Outline's name without its Examples values).
        names: [`^${escapeRegExp(mutant.caughtBy.replace(/ \(.*\)$/, ''))}$`],
        // Against the reference server every expectation is met within milliseconds.
        timeoutMs: 1000,
      });
      const failed = run.scenarios
        .filter((result) => result.status === 'failed')
        .map((result) => result.name);
      expect(run.scenarios.length).toBeGreaterThan(0);
      expect(failed.some((name) => name.startsWith(mutant.caughtBy))).toBe(true);
      killed.push(mutant.name);
    });
  }
});
