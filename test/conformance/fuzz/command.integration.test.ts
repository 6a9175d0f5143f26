/** `ecp fuzz` from the command line: its exit codes, and what a clean run prints. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function runEcp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ecp.js'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('ecp fuzz', () => {
  it('exits 2 on bad usage, saying what is wrong', async () => {
    const run = await runEcp(['fuzz', '--clients', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--clients must be a whole number from 2 to 12, got 1');
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
