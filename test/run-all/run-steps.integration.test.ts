import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { formatSummary, runSteps } from './run-steps.ts';

const node = (code: string) => ({ command: process.execPath, args: ['-e', code] });

describe('runSteps', () => {
  it('runs every step after a failure and reports each one', async () => {
    const logged: string[] = [];
    const results = await runSteps(
      [
        { name: 'first', ...node('') },
        { name: 'broken', ...node('process.exit(3)') },
        { name: 'after', ...node('') },
        { name: 'missing', skip: 'no such npm script' },
        { name: 'killed', ...node("process.kill(process.pid, 'SIGTERM')") },
      ],
      { cwd: process.cwd(), log: (line) => logged.push(line), quiet: true },
    );
    expect(results.map(({ name, status, detail }) => [name, status, detail])).toEqual([
      ['first', 'passed', ''],
      ['broken', 'failed', 'exit 3'],
      ['after', 'passed', ''],
      ['missing', 'skipped', 'no such npm script'],
      ['killed', 'failed', 'killed by SIGTERM'],
    ]);
    expect(logged.filter((line) => line.includes('━━'))).toHaveLength(4);
  });

  it('says when a step cannot start', async () => {
    const [result] = await runSteps([{ name: 'ghost', command: '/nonexistent/ecp-step', args: [] }], {
      cwd: process.cwd(),
      log: () => {},
      quiet: true,
    });
    expect(result).toMatchObject({ status: 'failed', detail: expect.stringMatching(/^did not start: /) });
  });
  it('stops the running step and what it started when interrupted, and starts no other', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'run-steps-')), 'grandchild.pid');
    // A step whose own child would outlive it if only the step were stopped; it says who that is.
    const step = node(
      `const child = require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
       require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
       setTimeout(() => {}, 20000);`,
    );
    const interrupted = new AbortController();
    const abortOnceStarted = async () => {
      for (let tries = 0; tries < 250 && !existsSync(pidFile); tries++) await delay(20);
      interrupted.abort();
    };
    const results = await runSteps(
      [
        { name: 'long', ...step },
        { name: 'next', ...node('') },
      ],
      {
        cwd: process.cwd(),
        log: (line) => {
          if (line.includes('long')) void abortOnceStarted();
        },
        quiet: true,
        signal: interrupted.signal,
      },
    );
    expect(results.map(({ name, status, detail }) => [name, status, detail])).toEqual([
      ['long', 'failed', 'killed by SIGTERM'],
      ['next', 'skipped', 'interrupted'],
    ]);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => {
      try {
        process.kill(grandchild, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      for (let tries = 0; tries < 100 && alive(); tries++) await delay(20);
      expect(alive()).toBe(false);
    } finally {
      if (alive()) process.kill(grandchild, 'SIGKILL');
    }
  });
});

describe('formatSummary', () => {
  it('lists each step with its status and duration, and ends with the counts', () => {
    const summary = formatSummary([
      { name: 'typecheck', status: 'passed', durationMs: 4200, detail: '' },
      { name: 'test:docs', status: 'failed', durationMs: 61_000, detail: 'exit 1' },
      { name: 'test:integration', status: 'skipped', durationMs: 0, detail: 'no such npm script' },
    ]);
    const lines = summary.split('\n');
    expect(lines[1]).toMatch(/^typecheck\s+passed\s+4\.2 s$/);
    expect(lines[2]).toMatch(/^test:docs\s+failed\s+61\.0 s {2}exit 1$/);
    expect(lines[3]).toMatch(/^test:integration\s+skipped\s+no such npm script$/);
    expect(lines.at(-1)).toBe('1 passed, 1 failed');
  });
});
