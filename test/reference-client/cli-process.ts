/**
 * Runs `node bin/ecp.js ...` as a child process for end-to-end tests, optionally inside a
 * pseudo-terminal made by util-linux `script` (present on any Linux CI machine; no install).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Child processes start tsx first: give them longer than in-process waits, for loaded CI machines. */
export const CLI_WAIT_MS = 20_000;

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ECP = fileURLToPath(new URL('../../bin/ecp.js', import.meta.url));

/** Whether `script -qfec` can give a child a pseudo-terminal here. */
export const canUsePseudoTerminal: boolean =
  process.platform === 'linux' && spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Run inside a pseudo-terminal (stdin and stdout are a TTY). */
  pty?: boolean;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  readonly #listeners = new Set<() => void>();

  constructor(args: string[], options: CliOptions = {}) {
    const env: Record<string, string | undefined> = {
      ...process.env,
      ECP_PASSWORD: undefined,
      ...options.env,
    };
    if (options.pty) {
      const command = ['node', ECP, ...args].map(shellQuote).join(' ');
      this.child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO_ROOT, env });
    } else {
      this.child = spawn(process.execPath, [ECP, ...args], { cwd: REPO_ROOT, env });
    }
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
      for (const listener of this.#listeners) listener();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    // A test that fails midway must not leave the child behind.
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    timer.unref();
    this.exited.then(() => clearTimeout(timer));
  }

  /** Waits until stdout (ANSI stripped) matches `pattern`. */
  waitForOutput(pattern: string | RegExp, timeoutMs = CLI_WAIT_MS): Promise<void> {
    const matches = () =>
      typeof pattern === 'string'
        ? stripAnsi(this.stdout).includes(pattern)
        : pattern.test(stripAnsi(this.stdout));
    if (matches()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!matches()) return;
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(
          new Error(`no ${String(pattern)} in the output in time; output so far:\n${stripAnsi(this.stdout)}`),
        );
      }, timeoutMs);
      this.#listeners.add(check);
    });
  }

  write(text: string): void {
    this.child.stdin?.write(text);
  }

  endInput(): void {
    this.child.stdin?.end();
  }

  /** The exit code, or a failure if the process has not exited within `timeoutMs` (it is then killed). */
  async exitCode(timeoutMs = CLI_WAIT_MS): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`process still running after ${timeoutMs} ms; output:\n${stripAnsi(this.stdout)}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** stdout as JSON lines (for --json mode). */
  jsonLines(): Array<Record<string, unknown>> {
    return this.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
