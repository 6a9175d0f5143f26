/**
 * What the kit gives an instructor, as one runs it: the step library (`--steps`), their own
 * features (`--features`), the faulty servers (`ecp mutant`) and scoring features with them
 * (`--mutants`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MutationReport } from '../../conformance/mutants/score.ts';
import type { ConformanceSummary } from '../../conformance/reports/summary.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ECP = join(ROOT, 'bin', 'ecp.js');
const EXAMPLE_FEATURES = join(ROOT, 'docs', 'examples', 'features');

function ecp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ECP, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('for instructors', () => {
  it('prints the step library: each step, an example, the requirements it helps check', async () => {
    const { code, stdout } = await ecp(['conformance', '--steps']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^The step library of the conformance kit: \d+ steps/);
    expect(stdout).toContain('  {member}  one of the clients a scenario may use: alice, bob, carol');
    expect(stdout).toMatch(
      /\n {2}Given {member} is connected\n {8}e\.g\. Given alice is connected\n[\s\S]*?helps check [^\n]*ECP-AUTH-01/,
    );
    expect(stdout).toMatch(/\n {2}Then {2}{member} receives an auth_error\n/);
  });

  it("runs an instructor's own features with the kit's steps, reporting their lab", async () => {
    const out = mkdtempSync(join(tmpdir(), 'ecp-features-'));
    const { code, stdout } = await ecp([
      'conformance',
      '--features',
      EXAMPLE_FEATURES,
      '--tags',
      '@lab-14',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('lab 14 2/2');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ConformanceSummary;
    expect(summary.scenarios.map((item) => [item.lab, item.location.replace(/:\d+$/, '')])).toEqual([
      [14, 'docs/examples/features/three-members.feature'],
      [14, 'docs/examples/features/three-members.feature'],
    ]);
    const missing = await ecp(['conformance', '--features', join(out, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such folder or file');
  });

  it('lists the mutants, and serves one by number that the kit then catches', async () => {
    const list = await ecp(['mutant', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ {1}5 {2}no-echo +ECP-CHAT-01 +relays a chat message to the others/m);
    const out = mkdtempSync(join(tmpdir(), 'ecp-mutant-'));
    const run = await ecp([
      'conformance',
      '--spawn',
      `"${process.execPath}" "${ECP}" mutant serve 5 --port {port}`,
      '--section',
      'ECP-CHAT-01',
      '--lab',
      '4',
      '--only',
      '--out',
      out,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ core       lab 4  ECP-CHAT-01   A chat message reaches every member');
    const unknown = await ecp(['mutant', 'serve', 'no-such-fault']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no mutant 'no-such-fault'");
  }, 60_000);

  it('scores the selected features by the mutants they detect', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ecp-mutants-'));
    const { code, stdout } = await ecp([
      'conformance',
      '--mutants',
      '--features',
      EXAMPLE_FEATURES,
      '--tags',
      '@lab-14',
      '--mutant',
      'no-echo',
      '--mutant',
      'silent-shutdown',
      '--out',
      out,
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain('The reference server: 2 of 2 selected scenarios pass');
    expect(stdout).toMatch(
      /✓ {2}5 no-echo +detected by ECP-CHAT-01 "Each member gets exactly the message carol sent"/,
    );
    expect(stdout).toMatch(/✗ +\d+ silent-shutdown +NOT detected: closes every connection on shutdown/);
    expect(stdout).toContain('Mutants detected: 1/2 (50%) by 2 scenarios');
    const report = JSON.parse(readFileSync(join(out, 'mutants.json'), 'utf8')) as MutationReport;
    expect(report).toMatchObject({ schema: 'ecp-mutants/1', detected: 1, total: 2, baselineFailures: [] });
  }, 60_000);
});
