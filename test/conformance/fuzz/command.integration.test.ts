import { describe, expect, it } from 'vitest';
import { runEcp } from '../../support/run-ecp.ts';

describe('ecp fuzz', () => {
  it('exits 2 on bad usage, saying what is wrong', async () => {
    const run = await runEcp(['fuzz', '--clients', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--clients must be a whole number from 2 to 12, got 1');
  });

  it('exits 2 for a --target of several endpoints: its histories replay on one', async () => {
    const run = await runEcp(['fuzz', '--target', 'tcp://127.0.0.1:8881,tcp://127.0.0.1:8882']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ecp fuzz runs its histories against one endpoint: give --target one URL');
  });

  it('exits 0 on a clean run of the embedded reference server, printing its seed', {
    timeout: 60_000,
  }, async () => {
    const run = await runEcp(['fuzz', '--duration', '2', '--seed', '9']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('seed 9');
    expect(run.stdout).toMatch(/Clean: \d+ histories in [\d.]+ s \(seed 9\)/);
  });
});
