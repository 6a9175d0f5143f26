#!/usr/bin/env node
/**
 * `npm run test:package`: the kit as a user gets it. Packs it (`npm pack`, which builds dist/),
 * installs the tarball globally into a temporary prefix (its dependencies from the registry,
 * without dev dependencies, so without tsx), then runs the installed `ecp` from a directory
 * outside the clone: `--version`, `conformance --profile core` against the embedded server, and
 * a tiny bench sweep (worker threads and the SVG chart). Exits 1 at the first failed check; the
 * temporary directory is removed either way.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLONE = fileURLToPath(new URL('../..', import.meta.url));
const { name, version } = JSON.parse(readFileSync(join(CLONE, 'package.json'), 'utf8'));
const startedAt = Date.now();

class CheckFailed extends Error {}

/** Runs a command; its output goes to the terminal unless `capture`. Fails unless it exits 0. */
function run(command, args, { cwd, capture = false }) {
  console.log(`\n$ ${[command, ...args].join(' ')}   (in ${cwd})`);
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    // Windows runs npm through its .cmd shim, which needs a shell.
    shell: process.platform === 'win32',
  });
  if (result.error) throw new CheckFailed(`${command} did not start: ${result.error.message}`);
  if (result.status !== 0) {
    if (capture) process.stdout.write(result.stdout);
    throw new CheckFailed(`${command} ${args[0]} exited with ${result.status ?? result.signal}`);
  }
  return result.stdout ?? '';
}

function check(condition, failure) {
  if (!condition) throw new CheckFailed(failure);
}

/**
 * The browser client ships beside dist/, and the installed server finds it: a WebSocket listener
 * serves its page and modules.
 */
async function checkWebClient(ecp, cwd) {
  const args = ['server', '--listen', 'ws://127.0.0.1:0/ecp', '--password', 'x', '--log-level', 'warn'];
  console.log(`\n$ ${[ecp, ...args].join(' ')}   (in ${cwd}; then GET / and /app.js)`);
  const server = spawn(ecp, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: process.platform === 'win32',
  });
  try {
    const url = await new Promise((resolve, reject) => {
      let printed = '';
      const timer = setTimeout(
        () => reject(new CheckFailed(`ecp server printed no "Web client on" line in 20 s:\n${printed}`)),
        20_000,
      );
      server.stdout.setEncoding('utf8').on('data', (text) => {
        printed += text;
        const match = printed.match(/^Web client on (\S+)$/m);
        if (match === null) return;
        clearTimeout(timer);
        resolve(match[1]);
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new CheckFailed(`ecp server exited with ${code} before serving the web client:\n${printed}`));
      });
    });
    for (const path of ['', 'app.js']) {
      const response = await fetch(`${url}${path}`);
      check(response.status === 200, `GET ${url}${path} answered ${response.status}, not 200`);
    }
    console.log(`the browser client is served on ${url}`);
  } finally {
    server.kill('SIGTERM');
  }
}

/** Files under `dir` (relative paths), skipping `node_modules`. */
function filesUnder(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path, base);
    return [relative(base, path)];
  });
}

const temp = mkdtempSync(join(tmpdir(), 'ecp-kit-package-'));
try {
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', temp], { cwd: CLONE, capture: true }),
  )[0];
  const tarball = join(temp, packed.filename);
  const shipped = packed.files.map((file) => file.path);
  // labs/ holds the course starters, source for students to copy (a TypeScript one among them):
  // the kit never runs them.
  const unwanted = shipped.filter(
    (path) =>
      /\.(ts|mts|cts)$|^test\/|\.json$/.test(path) && path !== 'package.json' && !path.startsWith('labs/'),
  );
  check(unwanted.length === 0, `the package ships files that do not run: ${unwanted.join(', ')}`);
  console.log(`${packed.filename}: ${shipped.length} files, ${packed.size} bytes`);

  const prefix = join(temp, 'prefix');
  run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { cwd: temp });
  const installed =
    process.platform === 'win32'
      ? join(prefix, 'node_modules', name)
      : join(prefix, 'lib', 'node_modules', name);
  const ecp = process.platform === 'win32' ? join(prefix, 'ecp.cmd') : join(prefix, 'bin', 'ecp');
  check(existsSync(ecp), `no ecp command at ${ecp}`);
  check(
    !existsSync(join(installed, 'node_modules', 'tsx')),
    'the installed kit pulled in tsx: it must run without the TypeScript loader',
  );
  const sources = filesUnder(installed).filter((path) => path.endsWith('.ts') && !path.startsWith('labs/'));
  check(sources.length === 0, `the installed kit holds TypeScript sources: ${sources.join(', ')}`);

  // Somewhere that is not the clone: the kit must find its features and docs by itself.
  const elsewhere = join(temp, 'elsewhere');
  mkdirSync(elsewhere);
  const printed = run(ecp, ['--version'], { cwd: elsewhere, capture: true }).trim();
  console.log(printed);
  check(
    new RegExp(`^${name} ${version.replaceAll('.', '\\.')} \\(ECP v\\d+\\)$`).test(printed),
    `ecp --version printed ${JSON.stringify(printed)}, not "${name} ${version} (ECP v<n>)"`,
  );
  run(ecp, ['conformance', '--profile', 'core'], { cwd: elsewhere });
  check(
    existsSync(join(elsewhere, 'reports', 'summary.json')),
    'ecp conformance wrote no reports/summary.json',
  );
  run(
    ecp,
    [
      'bench',
      '--sweep',
      'clients=5,10',
      '--duration',
      '1',
      '--warmup',
      '0',
      '--drain',
      '1',
      '--md',
      'sweep.md',
    ],
    { cwd: elsewhere },
  );
  check(existsSync(join(elsewhere, 'sweep.svg')), 'ecp bench --sweep wrote no sweep.svg');
  // ecp grade starts a worker process of its own: from the package, its compiled entry.
  writeFileSync(
    join(elsewhere, 'roster.csv'),
    `student,dir,command\nreference,.,"${ecp}" server --port {port} --password {password} --log-level warn\n`,
  );
  run(ecp, ['grade', 'roster.csv', '--labs', '1', '--out', 'grades'], { cwd: elsewhere });
  const gradebook = readFileSync(join(elsewhere, 'grades', 'grades.csv'), 'utf8');
  check(
    /^reference,server,10,10,10,graded,/m.test(gradebook),
    `ecp grade wrote an unexpected gradebook:\n${gradebook}`,
  );

  await checkWebClient(ecp, elsewhere);

  console.log(
    `\ntest:package: PASS, the installed ${name} ${version} works (${Math.round((Date.now() - startedAt) / 1000)} s)`,
  );
} catch (error) {
  if (!(error instanceof CheckFailed)) throw error;
  console.error(`\ntest:package: FAIL, ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(temp, { recursive: true, force: true });
}
