/**
 * The starters and their completed forms, by language, with what each needs to run. Go programs
 * are built once per test run into a temporary folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Small limits, so the limit scenarios take a second instead of ten. The slow-reader timeout is
 * the one grading uses (docs/grading.md, "Repeatability"): at 1 s, a busy machine (a full test
 * run) can leave the kit or the server without a core long enough to turn a burst's verdict.
 */
export const LIMITS = {
  handshakeTimeoutMs: 1000,
  maxLineBytes: 65536,
  maxPendingOutputBytes: 262144,
  maxConnections: 100,
};
export const LIMIT_FLAGS =
  '--handshake-timeout-ms 1000 --max-line-bytes 65536 --max-pending-output-bytes 262144 --max-connections 100 --slow-reader-timeout-ms 3000';

export interface Language {
  name: string;
  /** Why the language cannot run here, or undefined when it can. */
  missing: string | undefined;
  /** The shell command that starts the program at `path` (a file under the repository). */
  command(path: string): string;
  /** The file of the starter or of the solution. */
  starter: string;
  solution: string;
}

const hasPython = spawnSync('python3', ['-c', 'import cryptography']).status === 0;
const hasGo = spawnSync('go', ['version']).status === 0;
const goBuilds = mkdtempSync(join(tmpdir(), 'ecp-labs-go-'));

function goBinary(path: string): string {
  const out = join(goBuilds, path.replaceAll('/', '_'));
  const build = spawnSync('go', ['build', '-o', out, join(ROOT, path)], {
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'off' },
  });
  if (build.status !== 0) throw new Error(`go build ${path} failed:\n${build.stderr}`);
  return out;
}

export const LANGUAGES: Language[] = [
  {
    name: 'Python',
    missing: hasPython
      ? undefined
      : 'needs python3 with the cryptography package (Debian: python3-cryptography)',
    command: (path) => `python3 ${join(ROOT, path)}`,
    starter: 'labs/starters/python/server.py',
    solution: 'test/labs/solutions/python/server.py',
  },
  {
    name: 'TypeScript',
    missing: undefined,
    // tsx from the kit's own dependencies; a student runs `npm ci` once in the starter's folder for its own.
    command: (path) => `${process.execPath} --import tsx ${join(ROOT, path)}`,
    starter: 'labs/starters/typescript/server.ts',
    solution: 'test/labs/solutions/typescript/server.ts',
  },
  {
    name: 'Go',
    missing: hasGo ? undefined : 'needs the go toolchain (Debian: golang-go)',
    command: (path) => goBinary(path),
    starter: 'labs/starters/go/server.go',
    solution: 'test/labs/solutions/go/server.go',
  },
];
