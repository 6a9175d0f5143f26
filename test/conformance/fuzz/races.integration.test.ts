/**
 * `ecp fuzz` finds each race mutant with a fixed seed, within seconds (bounded at 30 s), and the
 * same seed leaves the reference server clean.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FuzzSession, fuzzServer } from '../../../conformance/fuzz/index.ts';
import { FaultProxy, RACE_MUTANTS } from '../../../conformance/mutants/index.ts';
import { ClientKeys } from '../../../conformance/support/client-keys.ts';
import { type EmbeddedStarter, openTarget, type Target } from '../../../server-under-test/index.ts';

const SEED = 2;
let keys: ClientKeys;

beforeAll(async () => {
  keys = await ClientKeys.create(8);
});

async function fuzzFor(start: EmbeddedStarter | undefined, durationMs: number) {
  const target: Target = await openTarget({ kind: 'embedded', ...(start ? { start } : {}) });
  try {
    const session = new FuzzSession({
      endpoint: target.endpoint,
      connectOptions: target.connectOptions,
      password: target.password,
      nextKey: () => keys.next(),
    });
    return await fuzzServer(session, { seed: SEED, clients: 4, steps: 30, durationMs });
  } finally {
    await target.close();
  }
}

describe('ecp fuzz finds the race mutants', () => {
  for (const mutant of RACE_MUTANTS) {
    it(`${mutant.name}: breaks ${mutant.requirement}`, { timeout: 60_000 }, async () => {
      const result = await fuzzFor(FaultProxy.starter(mutant.build), 30_000);
      expect(result.finding, `no history broke a rule in ${result.histories} histories`).toBeDefined();
      const broken = result.finding!.outcome.violations.map((item) => item.requirement);
      expect(broken).toContain(mutant.requirement);
    });
  }

  it('the same seed leaves the reference server clean', { timeout: 60_000 }, async () => {
    const result = await fuzzFor(undefined, 4_000);
    expect(result.finding?.outcome.violations ?? []).toEqual([]);
    expect(result.histories).toBeGreaterThan(2);
  });
});
