/**
 * Runs a list of steps (commands) one after the other, each to its end whatever the ones before
 * did, and reports them all: a failed typecheck must not hide a broken conformance run. The
 * summary ends with one plain line, `N passed, N failed`, that CI and people read alike.
 */
import { spawn } from 'node:child_process';

export interface Step {
  /** What the summary calls it (an npm script's name, say). */
  name: string;
  command: string;
  args: string[];
}

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  name: string;
  status: StepStatus;
  durationMs: number;
  /** Why it failed or was skipped: an exit code, a signal, a reason. */
  detail: string;
}

export interface RunOptions {
  cwd: string;
  /** Where headers and the summary go. */
  log: (line: string) => void;
  /** Whether the step's output goes to this process's terminal (the default) or is discarded. */
  quiet?: boolean;
  /** Aborted (on Ctrl-C, say): the running step is stopped and the ones after it are not run. */
  signal?: AbortSignal;
}

function runOne(step: Step, options: RunOptions): Promise<Omit<StepResult, 'name' | 'durationMs'>> {
  return new Promise((resolve) => {
    const windows = process.platform === 'win32';
    const child = spawn(step.command, step.args, {
      cwd: options.cwd,
      stdio: options.quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
      // Windows runs npm through its .cmd shim, which needs a shell.
      shell: windows,
      // Its own process group, so stopping it stops what it started too (npm does not pass a
      // signal down to its script's children).
      detached: !windows,
    });
    const stop = () => {
      if (windows || child.pid === undefined) child.kill('SIGTERM');
      else process.kill(-child.pid, 'SIGTERM');
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    child.once('error', (error) => resolve({ status: 'failed', detail: `did not start: ${error.message}` }));
    child.once('exit', (code, signal) => {
      options.signal?.removeEventListener('abort', stop);
      if (code === 0) resolve({ status: 'passed', detail: '' });
      else resolve({ status: 'failed', detail: signal ? `killed by ${signal}` : `exit ${code}` });
    });
  });
}

/** Runs every step, in order, and returns one result per step. */
export async function runSteps(
  steps: readonly (Step | { name: string; skip: string })[],
  options: RunOptions,
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of steps) {
    if ('skip' in step) {
      results.push({ name: step.name, status: 'skipped', durationMs: 0, detail: step.skip });
      continue;
    }
    if (options.signal?.aborted) {
      results.push({ name: step.name, status: 'skipped', durationMs: 0, detail: 'interrupted' });
      continue;
    }
    options.log(`\n━━ ${step.name}: ${[step.command, ...step.args].join(' ')}`);
    const startedAt = performance.now();
    const outcome = await runOne(step, options);
    results.push({ name: step.name, durationMs: performance.now() - startedAt, ...outcome });
  }
  return results;
}

/** The table of every step and the closing `N passed, N failed` line. */
export function formatSummary(results: readonly StepResult[]): string {
  const width = Math.max(4, ...results.map((result) => result.name.length));
  const rows = results.map((result) => {
    const seconds = result.status === 'skipped' ? '' : `${(result.durationMs / 1000).toFixed(1)} s`;
    const detail = result.detail ? `  ${result.detail}` : '';
    return `${result.name.padEnd(width)}  ${result.status.padEnd(7)}  ${seconds.padStart(8)}${detail}`;
  });
  const passed = results.filter((result) => result.status === 'passed').length;
  const failed = results.filter((result) => result.status === 'failed').length;
  return [
    `${'step'.padEnd(width)}  status   duration`,
    ...rows,
    '',
    `${passed} passed, ${failed} failed`,
  ].join('\n');
}
