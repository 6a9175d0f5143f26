/**
 * Whether `ecp grade` gives identical servers identical rows: N copies of each complete lab
 * solution (Python, TypeScript, Go) graded as one class with `--jobs 4`, the way an instructor
 * runs it on a busy machine. Every copy of one solution is the same program, so every row that
 * differs from the most common row of its solution is a verdict that moved with the load. Run by
 * hand (a benchmark, not a test):
 *
 *   npx tsx bench/scripts/grade-repeatability.ts [--copies 10] [--jobs 4] [--solutions python,typescript,go]
 *
 * Prints, per solution, how many rows differ, which scenarios moved and the kit's longest stall in
 * a burst (what decides whether a burst can be judged), then a Markdown table for
 * docs/grading.md. Exit 0 when no row differs, 1 when some do.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hideBin, yargs } from '../../bin/yargs.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SOLUTIONS = ['python', 'typescript', 'go'] as const;
type Solution = (typeof SOLUTIONS)[number];
/** Small limits, as the lab tests and the grading examples use: a run takes seconds, not minutes. */
const LIMITS = 'handshakeTimeoutMs=1000,maxLineBytes=65536,maxPendingOutputBytes=262144,maxConnections=100';

const args = yargs(hideBin(process.argv))
  .scriptName('grade-repeatability')
  .options({
    copies: { type: 'number', default: 10, describe: 'Copies of each solution in the class' },
    jobs: { type: 'number', default: 4, describe: 'Servers graded at a time (ecp grade --jobs)' },
    'slow-reader-timeout-ms': {
      type: 'number',
      // The timeout docs/grading.md recommends for grading: the kit can judge bursts against it on a
      // busy machine (conformance/judgeable-timeout.ts).
      default: 3000,
      describe:
        "The servers' slow-reader timeout: a burst is not judged when the kit itself stalls for half of it",
    },
    solutions: {
      type: 'string',
      default: SOLUTIONS.join(','),
      describe: `Which complete solutions, comma-separated (${SOLUTIONS.join(', ')})`,
    },
  })
  .check((parsed) => {
    if (!(parsed['slow-reader-timeout-ms'] > 0)) throw new Error('--slow-reader-timeout-ms must be positive');
    if (!Number.isInteger(parsed.copies) || parsed.copies < 2) throw new Error('--copies must be 2 or more');
    if (!Number.isInteger(parsed.jobs) || parsed.jobs < 1) throw new Error('--jobs must be 1 or more');
    for (const name of parsed.solutions.split(','))
      if (!SOLUTIONS.includes(name as Solution)) throw new Error(`unknown solution '${name}'`);
    return true;
  })
  .strict()
  .parseSync();

const SERVER_FLAGS = `--port {port} --password {password} {limits} --slow-reader-timeout-ms ${args['slow-reader-timeout-ms']}`;

/** The roster's folder and command for one solution (Go is built once). */
function solutionRow(solution: Solution, work: string): { dir: string; command: string } {
  switch (solution) {
    case 'python':
      return { dir: join(ROOT, 'test/labs/solutions/python'), command: `python3 server.py ${SERVER_FLAGS}` };
    case 'typescript':
      return {
        dir: ROOT,
        command: `${process.execPath} --import tsx test/labs/solutions/typescript/server.ts ${SERVER_FLAGS}`,
      };
    case 'go': {
      const binary = join(work, 'server-go');
      const build = spawnSync('go', ['build', '-o', binary, join(ROOT, 'test/labs/solutions/go/server.go')], {
        env: { ...process.env, GO111MODULE: 'off' },
        stdio: 'inherit',
      });
      if (build.status !== 0) throw new Error('go build failed');
      return { dir: work, command: `${binary} ${SERVER_FLAGS}` };
    }
  }
}

interface GradedStudent {
  student: string;
  verdict: string;
  total: number;
  possible: number;
  labs: {
    lab: number;
    points: number;
    scenarios: { name: string; outcome: string }[];
    /** The lab's reports, relative to the output folder. */
    reports?: { summary: string };
  }[];
}

function grade(roster: string, out: string): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/ecp.js'),
        'grade',
        roster,
        '--out',
        out,
        '--jobs',
        String(args.jobs),
        '--limits',
        LIMITS,
      ],
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

/**
 * The kit's longest stall in each burst a student's server met (ms), as the burst scenarios give it
 * in the lab's report: passed ("The kit's longest stall during the burst: N ms"), not judged ("the
 * kit itself read nothing for N ms") or failed on a cut ("while the kit's longest stall was N ms").
 */
function kitStallsOf(out: string, student: GradedStudent): number[] {
  const stalls: number[] = [];
  for (const lab of student.labs) {
    const summary = lab.reports?.summary;
    if (summary === undefined || !existsSync(join(out, summary))) continue;
    const text = readFileSync(join(out, summary), 'utf8');
    for (const match of text.matchAll(
      /longest stall during the burst: (\d+) ms|the kit itself read nothing for (\d+) ms|the kit's longest stall was (\d+) ms/g,
    ))
      stalls.push(Number(match[1] ?? match[2] ?? match[3]));
  }
  return stalls;
}

/** A row as the class report compares them: the verdict, the total and every scenario's outcome. */
function rowOf(student: GradedStudent): string {
  return JSON.stringify([
    student.verdict,
    student.total,
    student.labs.map((lab) => [lab.lab, lab.points, lab.scenarios.map((item) => [item.name, item.outcome])]),
  ]);
}

const work = mkdtempSync(join(tmpdir(), 'ecp-grade-repeatability-'));
try {
  const solutions = args.solutions.split(',') as Solution[];
  const lines = ['student,dir,command'];
  for (const solution of solutions) {
    const { dir, command } = solutionRow(solution, work);
    for (let copy = 1; copy <= args.copies; copy++) lines.push(`${solution}-${copy},${dir},"${command}"`);
  }
  const roster = join(work, 'roster.csv');
  writeFileSync(roster, `${lines.join('\n')}\n`);
  const out = join(work, 'out');
  const loadBefore = loadavg()[0]!;
  const seconds = await grade(roster, out);
  const { students } = JSON.parse(readFileSync(join(out, 'grades.json'), 'utf8')) as {
    students: GradedStudent[];
  };

  const table: string[] = [];
  let differing = 0;
  for (const solution of solutions) {
    const copies = students.filter((student) => student.student.startsWith(`${solution}-`));
    const rows = new Map<string, GradedStudent[]>();
    for (const student of copies) rows.set(rowOf(student), [...(rows.get(rowOf(student)) ?? []), student]);
    const majority = Math.max(...[...rows.values()].map((group) => group.length));
    const differ = copies.length - majority;
    differing += differ;
    const totals = [...new Set(copies.map((student) => student.total))].sort((a, b) => a - b);
    console.error(
      `${solution}: ${copies.length} copies, ${differ} rows differ from the most common one; totals ${totals.join(', ')} of ${copies[0]?.possible}`,
    );
    // Which scenarios moved: not passed in some copies.
    const moved = new Map<string, number>();
    for (const student of copies)
      for (const lab of student.labs)
        for (const scenario of lab.scenarios)
          if (scenario.outcome !== 'passed')
            moved.set(
              `${scenario.outcome}: ${scenario.name}`,
              (moved.get(`${scenario.outcome}: ${scenario.name}`) ?? 0) + 1,
            );
    for (const [what, times] of moved) console.error(`  ${times}x ${what}`);
    const stalls = copies.flatMap((student) => kitStallsOf(out, student)).sort((a, b) => a - b);
    const stall =
      stalls.length === 0
        ? '-'
        : `${stalls.at(-1)} ms (median ${stalls[Math.floor(stalls.length / 2)]} ms, ${stalls.length} bursts)`;
    console.error(`  the kit's longest stall in a burst: ${stall}`);
    table.push(`| ${solution} | ${copies.length} | ${differ} | ${totals.join(', ')} | ${stall} |`);
  }
  console.log(
    `\n${students.length} servers (${args.copies} copies of each of ${solutions.join(', ')}), every lab with scenarios, --jobs ${args.jobs}, slow-reader timeout ${args['slow-reader-timeout-ms']} ms, ${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after, ${seconds.toFixed(0)} s\n`,
  );
  console.log("| Solution | Copies | Rows that differ | Totals | The kit's longest stall in a burst |");
  console.log('| -------- | -----: | ---------------: | ------ | ---------------------------------- |');
  for (const row of table) console.log(row);
  process.exitCode = differing === 0 ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
