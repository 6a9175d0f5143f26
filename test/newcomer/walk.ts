/**
 * `npm run test:newcomer`: the first hour of a new user, checked. Clones this repository (its
 * committed HEAD) into an empty temporary folder with nothing beside it, and there:
 *
 * 1. runs README's first commands, `npm ci` and `npm start`, and compares what `npm start` prints
 *    with the summary README shows;
 * 2. as a student, checks lab 1 with each starter (Python, TypeScript, Go) from the starter's
 *    folder, as docs/labs/README.md says, which must fail lab 1 and print what that page shows;
 * 3. as an instructor, grades a class of two (a complete server and a starter handed in as
 *    given) and compares their rows with the ones docs/grading.md shows for such servers.
 *
 * A language whose toolchain is missing (python3 with cryptography, go) is skipped, saying so.
 * Every check runs; the failures are listed at the end, and the exit code is 1 if there was one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, commandBlocks } from '../docs/blocks.ts';
import { compareOutput } from '../docs/match.ts';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const failures: string[] = [];

interface Ran {
  status: number | null;
  output: string;
}

const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.FORCE_COLOR;
delete env.ECP_PASSWORD;

/** Runs a command, standard error merged into the output as on a terminal. */
function run(command: string, cwd: string): Ran {
  console.log(`\n$ ${command}   (in ${cwd})`);
  const result = spawnSync('sh', ['-c', `exec 2>&1\n${command}`], {
    cwd,
    encoding: 'utf8',
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = result.error ? `sh did not start: ${result.error.message}` : result.stdout;
  return { status: result.status, output };
}

function check(what: string, ok: boolean, detail = ''): boolean {
  console.log(`${ok ? '✓' : '✗'} ${what}`);
  if (!ok) failures.push(detail ? `${what}\n${detail}` : what);
  return ok;
}

/** Checks printed output against a doc's lines; `squeeze` compares runs of spaces as one. */
function checkOutput(what: string, where: string, expected: string[], printed: string, squeeze = false) {
  const normal = (lines: string[]) => (squeeze ? lines.map((line) => line.replace(/ {2,}/g, ' ')) : lines);
  const comparison = compareOutput(normal(expected), normal(printed.split('\n')));
  const shownAt = comparison.firstMismatch === undefined ? '' : expected[comparison.firstMismatch];
  check(
    `${what} prints what ${where} shows`,
    comparison.matches,
    `  the doc shows: ${shownAt}\n  the program printed:\n${printed
      .split('\n')
      .map((line) => `  | ${line}`)
      .join('\n')}`,
  );
}

/** The command block of a page whose command satisfies `pick`. */
function docCommand(
  clone: string,
  file: string,
  pick: (command: Command) => boolean,
): Command & { where: string } {
  for (const block of commandBlocks(file, readFileSync(join(clone, file), 'utf8'))) {
    const command = block.commands.find(pick);
    if (command) return { ...command, where: `${file}:${command.line}` };
  }
  throw new Error(`${file} no longer shows the command this walk follows`);
}

const toolchains = {
  python: spawnSync('python3', ['-c', 'import cryptography']).status === 0,
  go: spawnSync('go', ['version']).status === 0,
};

const starters = [
  {
    language: 'python',
    missing: toolchains.python ? '' : 'python3 with the cryptography package is not installed',
    prepare: [] as string[],
    server: 'python3 server.py',
  },
  {
    language: 'typescript',
    missing: '',
    // The starter carries what it needs in a package of its own: no npx fetching at run time.
    prepare: [`${npm} ci --no-audit --no-fund`],
    server: 'node --import tsx server.ts',
  },
  {
    language: 'go',
    missing: toolchains.go ? '' : 'go is not installed',
    prepare: ['go build -o server server.go'],
    server: './server',
  },
];

const parent = mkdtempSync(join(tmpdir(), 'ecp-newcomer-'));
try {
  const clone = join(parent, 'ecp-kit');
  const cloned = run(`git clone --quiet --no-hardlinks "${REPOSITORY}" "${clone}"`, parent);
  if (!check('git clone into an empty folder', cloned.status === 0, cloned.output))
    throw new Error('no clone');
  check('nothing beside the clone', readdirSync(parent).join() === 'ecp-kit');

  const installed = run(`${npm} ci --no-audit --no-fund`, clone);
  if (!check('npm ci', installed.status === 0, installed.output)) throw new Error('no install');

  const started = run(`${npm} start --silent`, clone);
  check('npm start exits 0', started.status === 0, `exit ${started.status}`);
  const summary = docCommand(clone, 'README.md', (command) => command.command === 'npm start');
  checkOutput('npm start', summary.where, summary.output, started.output);

  const labOne = docCommand(clone, 'docs/labs/README.md', (command) => command.command.includes('--lab 1'));
  for (const starter of starters) {
    if (starter.missing) {
      console.log(`- the ${starter.language} starter skipped: ${starter.missing}`);
      continue;
    }
    const dir = join(clone, 'labs/starters', starter.language);
    const prepared = starter.prepare.every((command: string) => {
      const result = run(command, dir);
      return check(`${starter.language} starter: ${command}`, result.status === 0, result.output);
    });
    if (!prepared) continue;
    const spawn = `${starter.server} --port {port} --password {password}`;
    const lab = run(`node ../../../bin/ecp.js conformance --spawn "${spawn}" --lab 1`, dir);
    check(`the ${starter.language} starter fails lab 1 (exit 1)`, lab.status === 1, `exit ${lab.status}`);
    checkOutput(`lab 1 of the ${starter.language} starter`, labOne.where, labOne.output, lab.output);
  }

  if (starters[0]?.missing) {
    console.log(`- grading skipped: ${starters[0].missing}`);
  } else {
    // A complete server and a starter handed in as given: ada and margaret of the class that
    // docs/grading.md grades, so their rows there are what this class must get.
    const limits = '{limits}';
    writeFileSync(
      join(clone, 'roster.csv'),
      [
        'student,dir,command',
        `ada,test/labs/solutions/python,python3 server.py --port {port} --password {password} ${limits}`,
        `margaret,labs/starters/python,python3 server.py --port {port} --password {password} ${limits}`,
        '',
      ].join('\n'),
    );
    const grading = docCommand(clone, 'docs/grading.md', (command) =>
      command.command.startsWith('ecp grade'),
    );
    const graded = run(
      `node bin/ecp.js ${grading.command.slice('ecp '.length).replace(/ --repeat \d+/, '')}`,
      clone,
    );
    check('ecp grade exits 0', graded.status === 0, `exit ${graded.status}`);
    const doc = grading.output;
    const row = (start: string) =>
      doc.find((line) => line.startsWith(start)) ?? `(no line "${start}" in the doc)`;
    const expected = [
      doc[0]!.replace(/\d+ servers/, '2 servers').replace(/\d+ at a time on \d+ cores?/, '...'),
      '...',
      row('student '),
      row('ada '),
      row('margaret '),
      row('Class report: '),
    ];
    checkOutput('ecp grade of ada and margaret', grading.where, expected, graded.output, true);
  }
} catch (error) {
  if (failures.length === 0) failures.push((error as Error).message);
} finally {
  rmSync(parent, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.log(`\nThe newcomer's walk failed ${failures.length} check${failures.length === 1 ? '' : 's'}:`);
  for (const failure of failures) console.log(`\n✗ ${failure}`);
  process.exitCode = 1;
} else {
  console.log("\nThe newcomer's walk: every check passed.");
}
