import { describe, expect, it } from 'vitest';
import { mergeRepeats, outcomeOf } from '../../conformance/repeats.ts';
import { formatEnd } from '../../conformance/reports/console.ts';
import { formatMarkdown } from '../../conformance/reports/markdown.ts';
import { buildSummary } from '../../conformance/reports/summary.ts';
import type { ScenarioResult } from '../../conformance/results.ts';
import type { ConformanceRun } from '../../conformance/runner.ts';
import { DEFAULT_LIMITS } from '../../protocol/index.ts';

function scenario(location: string, status: ScenarioResult['status'], message = ''): ScenarioResult {
  return {
    location,
    feature: 'X',
    name: `scenario at ${location}`,
    profile: 'core',
    requirements: ['ECP-CHAT-02'],
    lab: 4,
    labs: [4],
    tags: [],
    steps: [],
    status,
    durationMs: 10,
    notes: [],
    attachments: [],
    ...(status === 'failed' ? { failure: { step: 'a step', message } } : {}),
  };
}

function run(...scenarios: ScenarioResult[]): ConformanceRun {
  return {
    target: { kind: 'running', description: 'a server' },
    profile: 'all',
    tags: undefined,
    limits: { ...DEFAULT_LIMITS },
    timeoutMs: 2000,
    seed: 42,
    startedAt: new Date('2026-12-01T00:00:00Z'),
    durationMs: 100,
    scenarios,
  };
}

describe('outcomeOf', () => {
  it('is passed, failed or flaky over the attempts, and skipped when nothing ran', () => {
    expect(outcomeOf(['passed', 'passed'])).toBe('passed');
    expect(outcomeOf(['failed', 'undefined'])).toBe('failed');
    expect(outcomeOf(['passed', 'failed'])).toBe('flaky');
    expect(outcomeOf(['skipped'])).toBe('skipped');
  });
});

describe('mergeRepeats', () => {
  const runs = [
    run(scenario('a:1', 'passed'), scenario('a:2', 'passed'), scenario('a:3', 'failed', 'first')),
    run(scenario('a:1', 'passed'), scenario('a:2', 'failed', 'second'), scenario('a:3', 'failed', 'later')),
    run(scenario('a:1', 'passed'), scenario('a:2', 'passed'), scenario('a:3', 'failed', 'last')),
  ];
  const { run: merged, attempts } = mergeRepeats(runs);

  it('keeps every attempt and shows each scenario by its first failing attempt', () => {
    expect(attempts.get('a:2')).toEqual(['passed', 'failed', 'passed']);
    expect(merged.scenarios.map((item) => item.status)).toEqual(['passed', 'failed', 'failed']);
    expect(merged.scenarios[1]?.failure?.message).toBe('second');
    expect(merged.scenarios[2]?.failure?.message).toBe('first');
    expect(merged.durationMs).toBe(300);
  });

  it('reports the pass count per scenario in JSON, Markdown and on the console', () => {
    const summary = buildSummary(merged, [], new Map(), attempts);
    expect(summary.repeat).toBe(3);
    expect(summary.flaky).toBe(1);
    expect(summary.verdict).toBe('fail');
    expect(summary.scenarios.map((item) => item.repeats?.passed)).toEqual([3, 2, 0]);
    expect(summary.scenarios[1]?.repeats?.outcome).toBe('flaky');
    expect(formatMarkdown(summary)).toMatch(/scenario at a:2 \| `a:2` \| 10 \| 2\/3 \|/);
    const end = formatEnd(summary, { write: () => {}, colour: false }, []);
    expect(end).toContain('Repeated 3 times: 2 scenarios kept their verdict, 1 flaky:');
    expect(end).toContain('passed 2/3  scenario at a:2');
  });

  it('adds nothing for a single run', () => {
    const summary = buildSummary(runs[0] as ConformanceRun, []);
    expect(summary.repeat).toBe(1);
    expect(summary.scenarios.every((item) => item.repeats === null)).toBe(true);
    expect(formatMarkdown(summary)).not.toContain('Repeated');
  });
});
