import { describe, expect, it } from 'vitest';
import { formatEnd } from '../../conformance/reports/console.ts';
import { formatMarkdown } from '../../conformance/reports/markdown.ts';
import { buildSummary, labLine, profileLine } from '../../conformance/reports/summary.ts';
import type { Requirement } from '../../conformance/requirements.ts';
import type { ScenarioResult } from '../../conformance/results.ts';
import type { ConformanceRun } from '../../conformance/runner.ts';
import { DEFAULT_LIMITS } from '../../protocol/index.ts';

function scenario(overrides: Partial<ScenarioResult>): ScenarioResult {
  return {
    location: 'features/x.feature:1',
    feature: 'X',
    name: 'a scenario',
    profile: 'core',
    requirements: ['ECP-HS-02'],
    lab: 3,
    labs: [3],
    tags: ['@core', '@lab-3', '@ECP-HS-02'],
    steps: ['alice sends a valid handshake'],
    status: 'passed',
    durationMs: 12.4,
    notes: [],
    attachments: [],
    ...overrides,
  };
}

const requirements: Requirement[] = [
  { id: 'ECP-HS-02', level: 'MUST', party: 'server', text: 'Admit it.', line: 1, section: '4.2' },
  { id: 'ECP-HS-03', level: 'SHOULD', party: 'server', text: 'In order.', line: 2, section: '4.2' },
  { id: 'ECP-LIM-05', level: 'SHOULD', party: 'server', text: 'Limit connections.', line: 3, section: '12' },
];

const run: ConformanceRun = {
  target: { kind: 'running', description: 'server at 127.0.0.1:8888' },
  profile: 'all',
  tags: undefined,
  limits: { ...DEFAULT_LIMITS },
  timeoutMs: 2000,
  seed: 42,
  startedAt: new Date('2026-11-26T12:00:00Z'),
  durationMs: 1234,
  scenarios: [
    scenario({ name: 'admitted' }),
    scenario({ name: 'admitted | again', location: 'features/x.feature:9' }),
    scenario({
      name: 'in order',
      profile: 'strict',
      lab: 5,
      labs: [5],
      requirements: ['ECP-HS-03'],
      status: 'failed',
      failure: {
        step: 'alice receives a key_exchange',
        message: '✗ ECP-HS-03 SHOULD (server): In order.\n  expected: x',
      },
      attachments: [{ name: 'transcript-alice.txt', text: '...' }],
    }),
    scenario({
      name: 'limited',
      profile: 'robustness',
      lab: undefined,
      labs: [],
      requirements: ['ECP-LIM-05'],
      status: 'skipped',
      notes: ['Not checked: the connection limit is 10000.'],
    }),
  ],
};

describe('reports', () => {
  const summary = buildSummary(
    run,
    requirements,
    new Map([[run.scenarios[2]!, ['evidence/01-in-order/transcript-alice.txt']]]),
  );

  it('tallies per profile and per requirement; a skipped scenario neither passes nor fails', () => {
    expect(summary.verdict).toBe('fail');
    expect(summary.totals).toEqual({ total: 4, passed: 2, failed: 1, skipped: 1 });
    expect(summary.profiles.strict).toEqual({ total: 1, passed: 0, failed: 1, skipped: 0 });
    expect(profileLine(summary.profiles)).toBe('core 2/2 · strict 0/1 · robustness 0/0 (1 skipped)');
    expect(summary.requirements.map(({ id, status, scenarios }) => [id, status, scenarios])).toEqual([
      ['ECP-HS-02', 'passed', 2],
      ['ECP-HS-03', 'failed', 1],
      ['ECP-LIM-05', 'skipped', 1],
    ]);
    expect(summary.scenarios[0]?.durationMs).toBe(12);
  });

  it('tallies per lab, in lab order, leaving out scenarios without one', () => {
    expect(summary.labs).toEqual([
      { lab: 3, title: 'Key exchange', total: 2, passed: 2, failed: 0, skipped: 0 },
      { lab: 5, title: 'User list and notices', total: 1, passed: 0, failed: 1, skipped: 0 },
    ]);
    expect(labLine(summary.labs)).toBe('lab 3 2/2 · lab 5 0/1');
    expect(labLine([{ lab: 10, title: 'WebSocket', total: 11, passed: 0, failed: 0, skipped: 11 }])).toBe(
      'lab 10 0/0 (11 skipped)',
    );
    expect(summary.scenarios.map((item) => item.lab)).toEqual([3, 3, 5, null]);
    const markdown = formatMarkdown(summary);
    expect(markdown).toContain(
      '| 5 | User list and notices | 0/1 | 1 | 0 | `docs/labs/05-user-list-and-notices.md` |',
    );
    expect(markdown).toContain('| ❌ fail | 5 | ECP-HS-03 | in order |');
  });

  it('writes Markdown with a table per profile, the failures in full, and what was not checked', () => {
    const markdown = formatMarkdown(summary);
    expect(markdown).toContain('# ECP conformance: FAIL');
    expect(markdown).toContain('## strict: 0/1');
    expect(markdown).toContain('| ✅ pass | 3 | ECP-HS-02 | admitted \\| again |');
    expect(markdown).toContain('```text\n✗ ECP-HS-03 SHOULD (server): In order.\n  expected: x\n```');
    expect(markdown).toContain(
      '[evidence/01-in-order/transcript-alice.txt](evidence/01-in-order/transcript-alice.txt)',
    );
    expect(markdown).toContain(
      '- limited (`features/x.feature:1`): Not checked: the connection limit is 10000.',
    );
  });

  it('ends the console output with the failures and the verdict, uncoloured when asked', () => {
    const text = formatEnd(summary, { write: () => {}, colour: false }, ['reports/summary.md']);
    expect(text).toContain('1) in order  [strict, lab 5]  features/x.feature:1');
    expect(text).toContain('      lab 3 2/2 · lab 5 0/1\n');
    expect(text).toContain('   Step: alice receives a key_exchange');
    expect(text).toContain('FAIL  core 2/2 · strict 0/1 · robustness 0/0 (1 skipped)');
    expect(text).toContain('4 scenarios: 2 passed, 1 failed, 1 skipped, in 1.2 s');
    expect(text).not.toContain('\u001b[');
  });
});
