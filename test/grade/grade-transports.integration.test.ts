import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GradesFile } from '../../grade/model.ts';
import { makeDevCertificate } from '../../server-under-test/index.ts';
import { ROOT, runEcp } from '../support/run-ecp.ts';

describe('ecp grade over TLS and WebSocket', () => {
  it('grades each row over the transport its target names', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ecp-grade-transports-'));
    const certificate = await makeDevCertificate();
    writeFileSync(join(work, 'cert.pem'), certificate.cert);
    writeFileSync(join(work, 'key.pem'), certificate.key);
    const reference = `${process.execPath} ${join(ROOT, 'bin', 'ecp.js')} server --password {password} --log-level warn`;
    const solution = `${process.execPath} --import tsx ${join(ROOT, 'test', 'labs', 'solutions', 'typescript', 'server.ts')} --port {port} --password {password}`;
    const roster = join(work, 'roster.csv');
    writeFileSync(
      roster,
      [
        'student,dir,command,target',
        `reference-ws,${work},${reference} --listen ws://127.0.0.1:{port}/ecp,ws://127.0.0.1:{port}/ecp`,
        `reference-tls,${work},${reference} --listen tls://127.0.0.1:{port} --tls-cert cert.pem --tls-key key.pem,tls://127.0.0.1:{port}`,
        `solution-tcp,${ROOT},${solution},`,
        `solution-ws,${ROOT},${solution},ws://127.0.0.1:{port}/ecp`,
      ].join('\n'),
    );
    const out = join(work, 'out');
    const run = await runEcp([
      'grade',
      roster,
      '--out',
      out,
      '--labs',
      '1',
      '--tags',
      '@ECP-AUTH-01 or @ECP-ERR-01 or @ECP-FR-01',
      '--ca',
      join(work, 'cert.pem'),
      '--timeout',
      '1',
      '--jobs',
      '2',
      '--cap',
      '60',
    ]);
    expect(run.stderr).not.toMatch(/Error|worker failed/);
    expect(run.code).toBe(0);
    const grades = JSON.parse(readFileSync(join(out, 'grades.json'), 'utf8')) as GradesFile;
    const rows = grades.students.map((student) => ({
      student: student.student,
      verdict: student.verdict,
      passed: student.labs[0]!.passed,
      failed: student.labs[0]!.failed,
      skipped: student.labs[0]!.skipped,
      total: student.labs[0]!.total,
      notes: student.notes.join(' '),
    }));
    expect(rows.map((row) => [row.student, row.verdict])).toEqual([
      ['reference-ws', 'graded'],
      ['reference-tls', 'graded'],
      ['solution-tcp', 'graded'],
      ['solution-ws', 'no-answer'],
    ]);
    // Every scenario passes; over WebSocket, those about lines in a byte stream do not apply.
    expect(rows.slice(0, 3).map(({ passed, failed, skipped }) => ({ passed, failed, skipped }))).toEqual([
      { passed: 6, failed: 0, skipped: 2 },
      { passed: 8, failed: 0, skipped: 0 },
      { passed: 8, failed: 0, skipped: 0 },
    ]);
    // A TCP server reached over WebSocket never answers the upgrade, and its row says so.
    expect(rows[3]!.notes).toMatch(
      /the grader could not connect: no connection to ws:\/\/127\.0\.0\.1:\d+\/ecp within \d+ ms/,
    );
  }, 120_000);
});
