/**
 * `ecp grade` on a class of real servers, through the command as an instructor runs it: the Python
 * example, the Python starter, and faulty servers that never start, never answer, crash on the
 * first chat message, hang on it, drop every other start's relays, and stop listening after lab 1
 * (the wall-clock cap). Each gets the verdict and points it deserves, and the three outputs agree.
 * Small limits and two labs keep it short.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GradesFile, StudentGrade } from '../../grade/model.ts';
import { ROOT, runEcp } from '../support/run-ecp.ts';

const hasPythonCryptography = spawnSync('python3', ['-c', 'import cryptography']).status === 0;

describe.skipIf(!hasPythonCryptography)(
  'ecp grade on a class (needs python3 and its cryptography package)',
  () => {
    it('gives every server the verdict and points it deserves, in grades.json, grades.csv and index.html', async () => {
      const work = mkdtempSync(join(tmpdir(), 'ecp-grade-class-'));
      const fixtures = join(ROOT, 'test', 'grade', 'fixtures');
      const faulty = (fault: string) =>
        `python3 faulty_server.py ${fault} --port {port} --password {password} {limits}`;
      const roster = join(work, 'roster.csv');
      // Its own folder: the stalling server counts its starts there, as the flaky one does in `work`.
      const stalling = join(work, 'stalls');
      mkdirSync(stalling);
      writeFileSync(
        roster,
        [
          'student,dir,command',
          `example,${join(ROOT, 'docs', 'examples')},python3 prototype_server.py --port {port} --password {password}`,
          `starter,${join(ROOT, 'labs', 'starters', 'python')},python3 server.py --port {port} --password {password} {limits}`,
          `never-starts,${fixtures},python3 no_such_server.py --port {port}`,
          `silent,${fixtures},${faulty('silent')}`,
          `crashes,${fixtures},${faulty('crash-on-chat')}`,
          `hangs,${fixtures},${faulty('spin-on-chat')}`,
          `flaky,${work},python3 ${join(fixtures, 'faulty_server.py')} flaky --port {port} --password {password} {limits}`,
          `stalls,${stalling},python3 ${join(fixtures, 'faulty_server.py')} stalls --port {port} --password {password} {limits}`,
        ].join('\n'),
      );
      const out = join(work, 'out');
      const run = await runEcp([
        'grade',
        roster,
        '--out',
        out,
        '--labs',
        '1,4',
        // Lab 4 narrowed to three scenarios: enough to see relays, crashes and hangs.
        '--tags',
        '@lab-1 or @ECP-CHAT-01 or @ECP-CHAT-03',
        '--limits',
        'handshakeTimeoutMs=1000',
        '--timeout',
        '1',
        '--repeat',
        '2',
        // The stalling server's lab 4 start waits out the start timeout, far past the cap: the cap
        // ends that row during lab 4 whatever the machine's speed.
        '--cap',
        '30',
        '--start-timeout',
        '600',
        '--jobs',
        '4',
      ]);
      expect(run.stderr).not.toMatch(/Error|worker failed/);
      expect(run.code).toBe(0);

      const grades = JSON.parse(readFileSync(join(out, 'grades.json'), 'utf8')) as GradesFile;
      const byName = new Map(grades.students.map((student) => [student.student, student]));
      const row = (name: string) => byName.get(name) as StudentGrade;
      const points = (name: string) => row(name).labs.map((lab) => lab.points);

      expect(grades.students.map((student) => [student.student, student.verdict])).toEqual([
        ['example', 'graded'],
        ['starter', 'no-answer'],
        ['never-starts', 'did-not-start'],
        ['silent', 'no-answer'],
        ['crashes', 'crashed'],
        ['hangs', 'graded'],
        ['flaky', 'graded'],
        ['stalls', 'timed-out'],
      ]);
      // The example passes both; a server that does not start or answer gets nothing.
      expect(points('example')).toEqual([10, 10]);
      for (const name of ['starter', 'never-starts', 'silent']) expect(row(name).total).toBe(0);
      expect(row('never-starts').notes.join()).toMatch(/exited with code 2 before accepting connections/);
      // A crash in lab 4 keeps lab 1's points, and the crash is noted (lab 4 is the last: no restart).
      expect(points('crashes')).toEqual([10, 0]);
      expect(row('crashes').notes).toEqual(['lab 4: exited with code 3']);
      expect(row('crashes').labs[1]).toMatchObject({ status: 'crashed', crash: 'exited with code 3' });
      // A server that hangs in lab 4 fails lab 4 (its scenarios end as blocked, each wait bounded)
      // and keeps lab 1.
      expect(points('hangs')).toEqual([10, 0]);
      // The cap costs the lab it stops, not the labs before it.
      expect(points('stalls')).toEqual([10, 0]);
      expect(row('stalls').notes.join()).toMatch(/30 s wall-clock cap.*not graded: lab 4/);
      // The third start (lab 4) relays nothing, the fourth (its rerun) does: those scenarios are flaky.
      const flaky = row('flaky').labs[1]!;
      expect(flaky.flaky).toBeGreaterThan(0);
      expect(flaky.scenarios.filter((item) => item.outcome === 'flaky')[0]?.attempts).toEqual([
        'failed',
        'passed',
      ]);
      expect(flaky.points).toBeLessThan(10);

      const csv = readFileSync(join(out, 'grades.csv'), 'utf8').trim().split('\r\n');
      expect(csv[0]).toBe('student,kind,lab-1,lab-4,total,possible,verdict,notes');
      expect(csv[1]).toBe('example,server,10,10,20,20,graded,');
      expect(csv[5]).toMatch(/^crashes,server,10,0,10,20,crashed,lab 4: exited with code 3/);

      // A lab with a failure keeps cucumber's report and its cell opens it; a lab passed in full
      // links to the student's section instead (--html failing, the default).
      const html = readFileSync(join(out, 'index.html'), 'utf8');
      const crashReport = row('crashes').labs[1]!.reports!.html!;
      expect(html).toContain(`href="${crashReport}"`);
      expect(readFileSync(join(out, crashReport), 'utf8')).toContain('<html');
      expect(row('example').labs[0]!.reports!.html).toBeUndefined();
      expect(html).toMatch(/<a href="#student-1">10<\/a>/);
      expect(
        JSON.parse(readFileSync(join(out, row('crashes').labs[1]!.reports!.summary), 'utf8')).schema,
      ).toBe('ecp-conformance/1');
      expect(run.stdout).toMatch(/Class report: .*index\.html/);
    }, 150_000);
  },
);
