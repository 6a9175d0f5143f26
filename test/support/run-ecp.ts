/**
 * Runs the kit's own command line (`bin/ecp.js`) from the repository root, as a user would, and
 * collects what it printed and how it exited.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface EcpRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `env` adds to (or, with '', blanks) the environment's variables. */
export function runEcp(args: readonly string[], env: Record<string, string> = {}): Promise<EcpRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ecp.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
