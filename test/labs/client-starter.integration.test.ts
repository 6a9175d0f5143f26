/**
 * The client track's Python starter fails lab 11 until its TODOs are done, saying which TODO it
 * reached; the completed client it is written from passes every client lab.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClientConformance } from '../../conformance/client-runner.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const hasPython = spawnSync('python3', ['-c', 'import cryptography']).status === 0;

function command(path: string): string {
  return `python3 ${join(ROOT, path)} {host} {port} {username} {password}`;
}

describe.skipIf(!hasPython)('the Python client starter (needs python3 with cryptography)', () => {
  it('fails lab 11, and its output names the TODO it reached', { timeout: 120_000 }, async () => {
    const run = await runClientConformance({
      command: command('labs/starters/python-client/client.py'),
      output: 'json',
      transport: 'tcp',
      lab: 11,
      onlyLab: true,
    });
    const ran = run.scenarios.filter((result) => result.status !== 'skipped');
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.filter((result) => result.status === 'passed').map((result) => result.name)).toEqual([]);
    const stderr = run.scenarios.flatMap((result) =>
      result.attachments.filter((item) => item.name === 'client-stderr.txt'),
    );
    expect(stderr[0]?.text).toContain('TODO(lab 11): make_handshake');
  });

  it('passes every client lab once completed', { timeout: 300_000 }, async () => {
    const run = await runClientConformance({
      command: command('test/labs/solutions/python-client/client.py'),
      output: 'json',
      transport: 'tcp',
      lab: 13,
    });
    expect(run.scenarios.filter((result) => result.status === 'failed').map((result) => result.name)).toEqual(
      [],
    );
    expect(run.scenarios.filter((result) => result.status === 'passed').length).toBeGreaterThanOrEqual(25);
  });
});
