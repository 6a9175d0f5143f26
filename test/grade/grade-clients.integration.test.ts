/**
 * `ecp grade` on a roster of clients, through the command as an instructor runs it: the completed
 * Python client passes lab 11 and the Python client starter fails it, each row graded through the
 * client labs alone, with its kind in grades.json, grades.csv and index.html.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GradesFile } from '../../grade/model.ts';
import { ROOT, runEcp } from '../support/run-ecp.ts';

const hasPythonCryptography = spawnSync('python3', ['-c', 'import cryptography']).status === 0;

describe.skipIf(!hasPythonCryptography)(
  'ecp grade on client rows (needs python3 and its cryptography package)',
  () => {
    it('grades each client through lab 11: the completed client passes it, the starter fails it', async () => {
      const work = mkdtempSync(join(tmpdir(), 'ecp-grade-clients-'));
      const roster = join(work, 'roster.csv');
      const client = 'python3 client.py {host} {port} {username} {password}';
      writeFileSync(
        roster,
        [
          'student,dir,command,kind',
          `completed,${join(ROOT, 'test', 'labs', 'solutions', 'python-client')},${client},client`,
          `starter,${join(ROOT, 'labs', 'starters', 'python-client')},${client},client`,
        ].join('\n'),
      );
      const out = join(work, 'out');
      const run = await runEcp([
        'grade',
        roster,
        '--out',
        out,
        '--labs',
        '11',
        '--jobs',
        '2',
        '--html',
        'none',
      ]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/completed: graded, 10\/10/);

      const grades = JSON.parse(readFileSync(join(out, 'grades.json'), 'utf8')) as GradesFile;
      expect(grades.labs.map((lab) => [lab.number, lab.party])).toEqual([[11, 'client']]);
      const [completed, starter] = grades.students;
      expect(completed?.kind).toBe('client');
      expect(starter?.kind).toBe('client');

      const completedLab = completed!.labs.find((lab) => lab.lab === 11)!;
      expect(completedLab.status).toBe('graded');
      expect(completedLab.total).toBeGreaterThan(0);
      expect(completedLab.failed).toBe(0);
      expect(completedLab.passed + completedLab.skipped).toBe(completedLab.total);
      expect(completed).toMatchObject({ verdict: 'graded', total: 10, possible: 10 });

      const starterLab = starter!.labs.find((lab) => lab.lab === 11)!;
      expect(starterLab.status).toBe('graded');
      expect(starterLab.total).toBe(completedLab.total);
      expect(starterLab.passed).toBe(0);
      expect(starterLab.failed).toBeGreaterThan(0);
      expect(starter).toMatchObject({ verdict: 'graded', total: 0, possible: 10 });
      // The evidence of its failures holds what it said on its way out: the TODO it reached.
      const evidence = starterLab.scenarios.flatMap((scenario) => scenario.evidence ?? []);
      expect(evidence.some((file) => readFileSync(join(out, file), 'utf8').includes('TODO(lab 11)'))).toBe(
        true,
      );

      expect(readFileSync(join(out, 'grades.csv'), 'utf8').split('\r\n')).toEqual([
        'student,kind,lab-11,total,possible,verdict,notes',
        'completed,client,10,10,10,graded,',
        'starter,client,0,0,10,graded,',
        '',
      ]);
      const html = readFileSync(join(out, 'index.html'), 'utf8');
      expect(html).toContain('2 clients · labs 11');
      expect(run.stdout).toMatch(/completed\s+10\s+10\/10\s+graded/);
      expect(run.stdout).toMatch(/starter\s+0\s+0\/10\s+graded/);
    }, 300_000);
  },
);
