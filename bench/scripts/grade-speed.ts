/**
 * How long `ecp grade` takes for a class: 1, 10 and 20 copies of one complete server through every
 * lab, with --jobs 4 and small limits, as an instructor would run it. Run by hand (not a test):
 *
 *   npx tsx bench/scripts/grade-speed.ts [--counts 1,10,20] [--jobs 4] [--server python|typescript|go|reference]
 *
 * Prints a Markdown table (servers, wall time, per server, speed-up over grading them one after
 * another at the single-server time) for docs/grading.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { finish, scriptOptions } from './harness.ts';

const ROOT = join(import.meta.dirname, '../..');
const LIMITS = 'handshakeTimeoutMs=1000,maxLineBytes=65536,maxPendingOutputBytes=262144,maxConnections=100';

const SERVERS = ['python', 'typescript', 'go', 'reference'] as const;

const values = scriptOptions(
  import.meta.filename,
  'How long `ecp grade` takes for a class: copies of one complete server through every lab.',
  {
    counts: {
      type: 'string',
      default: '1,10,20',
      describe: 'Class sizes to grade, comma-separated',
      coerce: (text: string) => {
        const counts = text.split(',').map(Number);
        if (counts.some((count) => !Number.isInteger(count) || count < 1))
          throw new RangeError(`--counts must be positive integers, comma-separated, got ${text}`);
        return counts;
      },
    },
    jobs: { type: 'number', default: 4, min: 1, whole: true, describe: '`ecp grade --jobs`' },
    server: {
      choices: SERVERS,
      default: 'python' as (typeof SERVERS)[number],
      describe: 'The server graded',
    },
  },
);

function serverRow(kind: (typeof SERVERS)[number], work: string): { dir: string; command: string } {
  switch (kind) {
    case 'python':
      return {
        dir: join(ROOT, 'test/labs/solutions/python'),
        command:
          'python3 server.py --port {port} --password {password} {limits} --slow-reader-timeout-ms 1000',
      };
    case 'typescript':
      return {
        dir: ROOT,
        command: `${process.execPath} --import tsx test/labs/solutions/typescript/server.ts --port {port} --password {password} {limits} --slow-reader-timeout-ms 1000`,
      };
    case 'go': {
      const binary = join(work, 'server');
      const build = spawnSync('go', ['build', '-o', binary, join(ROOT, 'test/labs/solutions/go/server.go')], {
        env: { ...process.env, GO111MODULE: 'off' },
        stdio: 'inherit',
      });
      if (build.status !== 0) throw new Error('go build failed');
      return {
        dir: work,
        command: `${binary} --port {port} --password {password} {limits} --slow-reader-timeout-ms 1000`,
      };
    }
    case 'reference':
      return {
        dir: ROOT,
        command: `${process.execPath} bin/ecp.js server --port {port} --password {password} {limits} --slow-reader-timeout-ms 1000 --log-level warn`,
      };
  }
}

function grade(roster: string, out: string, jobs: number): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/ecp.js'), 'grade', roster, '--out', out, '--jobs', String(jobs), '--limits', LIMITS],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(Number(process.hrtime.bigint() - started) / 1e9)
        : reject(new Error(`ecp grade exited ${code}`)),
    );
  });
}

const work = mkdtempSync(join(tmpdir(), 'ecp-grade-speed-'));
try {
  const row = serverRow(values.server, work);
  const results: { count: number; seconds: number; graded: number; verdicts: string }[] = [];
  for (const count of values.counts) {
    const roster = join(work, `roster-${count}.csv`);
    const lines = ['student,dir,command'];
    for (let i = 1; i <= count; i++) lines.push(`s${i},${row.dir},"${row.command}"`);
    writeFileSync(roster, `${lines.join('\n')}\n`);
    const out = join(work, `out-${count}`);
    const seconds = await grade(roster, out, values.jobs);
    const grades = JSON.parse(readFileSync(join(out, 'grades.json'), 'utf8')) as {
      students: {
        verdict: string;
        total: number;
        possible: number;
        labs: { scenarios: { name: string; outcome: string }[] }[];
      }[];
    };
    const full = grades.students.filter((student) => student.total === student.possible).length;
    const verdicts = [...new Set(grades.students.map((student) => student.verdict))].join(', ');
    results.push({ count, seconds, graded: full, verdicts });
    console.error(`${count} servers: ${seconds.toFixed(1)} s (${full} with every point; ${verdicts})`);
    // What a complete server lost, if anything: under load, timing-sensitive scenarios.
    const lost = new Map<string, number>();
    for (const student of grades.students) {
      for (const lab of student.labs) {
        for (const scenario of lab.scenarios) {
          if (scenario.outcome !== 'passed' && scenario.outcome !== 'skipped') {
            const key = `${scenario.outcome}: ${scenario.name}`;
            lost.set(key, (lost.get(key) ?? 0) + 1);
          }
        }
      }
    }
    for (const [what, times] of lost) console.error(`  ${times}x ${what}`);
  }
  const single = results.find((result) => result.count === 1)?.seconds;
  console.log(
    `\n${values.server} server, every lab with scenarios, --jobs ${values.jobs}, ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at the end\n`,
  );
  console.log('| Servers | Wall time | Per server | One after another would take | Speed-up |');
  console.log('| ------: | --------: | ---------: | ---------------------------: | -------: |');
  for (const { count, seconds } of results) {
    const serial = single === undefined ? undefined : single * count;
    console.log(
      `| ${count} | ${seconds.toFixed(1)} s | ${(seconds / count).toFixed(1)} s | ${serial === undefined ? '' : `${serial.toFixed(1)} s`} | ${serial === undefined ? '' : `${(serial / seconds).toFixed(1)}x`} |`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
await finish();
