/**
 * A history written as a `.feature` reproduces its race through the conformance runner: it fails
 * against the mutant it was found on and passes against the reference server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { featureText } from '../../../conformance/fuzz/feature-writer.ts';
import { parseHistory } from '../../../conformance/fuzz/history.ts';
import { FaultProxy, RACE_MUTANTS } from '../../../conformance/mutants/index.ts';
import { runConformance } from '../../../conformance/runner.ts';
import type { TargetSpec } from '../../../server-under-test/index.ts';

const work = mkdtempSync(join(tmpdir(), 'ecp-fuzz-replay-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const nonAtomicJoin = RACE_MUTANTS.find((mutant) => mutant.name === 'non-atomic join')!;
const file = join(work, 'two-joins.feature');
writeFileSync(
  file,
  featureText({
    history: parseHistory('c1 joins as ann\nc2 joins as cy'),
    violation: { requirement: 'ECP-UL-01', text: 'a stale user list' },
    repeats: 3,
    origin: 'a test',
  }),
);

async function replay(target: TargetSpec) {
  const run = await runConformance({ target, features: [file], tags: '@fuzz', timeoutMs: 1000 });
  return run.scenarios.map((scenario) => scenario.status);
}

describe('a written history', () => {
  it('fails against the mutant it breaks, through ecp conformance --features', {
    timeout: 60_000,
  }, async () => {
    expect(await replay({ kind: 'embedded', start: FaultProxy.starter(nonAtomicJoin.build) })).toEqual([
      'failed',
    ]);
  });

  it('passes against the reference server', { timeout: 60_000 }, async () => {
    expect(await replay({ kind: 'embedded' })).toEqual(['passed']);
  });
});
