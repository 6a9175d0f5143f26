/**
 * What one student server may cost: the roster's command wrapped in a shell that sets resource
 * limits (ulimit) before it starts, runs it in the student's folder, and records how the server
 * ended when it ends on its own. The kit starts that shell in a process group of its own
 * (server-under-test), so stopping it stops everything the server started.
 *
 * ulimit limits apply per process: CPU seconds (a soft limit: the kernel sends SIGXCPU),
 * data (the memory a process has written or may write: its heap and private writable mappings, so
 * a runaway allocation fails in that server only) and the number of processes. Data, not address
 * space (`ulimit -v`): Node and Go reserve far more address space than they use (V8's WebAssembly
 * guard regions alone are gigabytes), so an address-space cap that bounds a Python server stops a
 * Node server from starting at all; a reservation the process never writes to counts as no data.
 * The process limit counts every process of the user, and root ignores it: grade as an ordinary
 * user, or in a container with a pids limit, to stop a fork bomb.
 */
import { spawnSync } from 'node:child_process';
import { shellQuote } from '../server-under-test/index.ts';

export interface ResourceLimits {
  /** CPU seconds per process (soft limit: SIGXCPU). */
  cpuSeconds: number;
  /** Data (heap and private writable mappings) per process, in MiB: `ulimit -d`. */
  memoryMb: number;
  /** Processes the user may have while the server runs (counted over all of the user's processes). */
  processes: number;
}

export const DEFAULT_RESOURCE_LIMITS: Readonly<ResourceLimits> = Object.freeze({
  cpuSeconds: 120,
  memoryMb: 2048,
  processes: 256,
});

/** Which limits this platform's /bin/sh can set, and with which ulimit option for processes. */
export interface ShellLimits {
  cpu: boolean;
  memory: boolean;
  /** bash and zsh call it -u, dash -p; undefined when neither works. */
  processesOption: '-u' | '-p' | undefined;
  /** Whether the process limit is enforced at all (not for root). */
  processesEnforced: boolean;
}

let detected: ShellLimits | undefined;

/** Tries each ulimit option once in /bin/sh (the shell the kit spawns commands with). */
export function detectShellLimits(): ShellLimits {
  if (detected) return detected;
  const works = (script: string) => spawnSync('/bin/sh', ['-c', script], { stdio: 'ignore' }).status === 0;
  // A value well above what the shell already runs with, so trying it cannot fail for that reason.
  const processesOption = works('ulimit -u 100000') ? '-u' : works('ulimit -p 100000') ? '-p' : undefined;
  detected = {
    cpu: works('ulimit -S -t 100000'),
    memory: works('ulimit -d 100000000'),
    processesOption,
    processesEnforced: processesOption !== undefined && process.getuid?.() !== 0,
  };
  return detected;
}

/** The user's processes right now, so the process limit leaves room for what already runs. */
export function countUserProcesses(): number {
  const uid = process.getuid?.();
  if (uid === undefined) return 0;
  const result = spawnSync('ps', ['-U', String(uid), '-o', 'pid='], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n').filter((line) => line.trim()).length : 0;
}

export interface SandboxFiles {
  /** Written by the wrapper at start: its PID, which is the process group of the server. */
  pidFile: string;
  /** Written only when the server command ends on its own: its exit status. */
  exitFile: string;
}

/**
 * The shell script the kit spawns for one server. `{port}` and `{password}` are left for the kit
 * to fill in. When the kit stops the server, the wrapper shell dies by the same signal and writes
 * nothing; so the exit file exists only when the server ended by itself (a crash, an exit, a limit).
 */
export function sandboxScript(
  command: string,
  dir: string,
  limits: ResourceLimits,
  files: SandboxFiles,
  shell: ShellLimits = detectShellLimits(),
  processesAlready = 0,
): string {
  const lines = [`echo $$ > ${shellQuote(files.pidFile)}`];
  if (shell.cpu) lines.push(`ulimit -S -t ${limits.cpuSeconds}`);
  if (shell.memory) lines.push(`ulimit -d ${limits.memoryMb * 1024}`);
  if (shell.processesOption) {
    lines.push(`ulimit ${shell.processesOption} ${processesAlready + limits.processes} 2>/dev/null`);
  }
  lines.push(`cd ${shellQuote(dir)} || exit 97`);
  // In a subshell, so an `exit` or `exec` in the command cannot skip the line after it; on lines
  // of its own, so a command ending in a comment or an & cannot swallow what follows.
  lines.push('(', command, ')');
  // And ends with the command's status: a client's exit status is part of its contract.
  lines.push('status=$?', `echo $status > ${shellQuote(files.exitFile)}`, 'exit $status');
  return lines.join('\n');
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
};

/** How a server ended, for people: `exited with code 1`, `killed by SIGXCPU (CPU time limit)`. */
export function describeExitStatus(status: number): string {
  if (status <= 128) return `exited with code ${status}`;
  const signal = SIGNALS[status - 128] ?? `signal ${status - 128}`;
  const why =
    signal === 'SIGXCPU'
      ? ' (CPU time limit)'
      : signal === 'SIGKILL'
        ? ' (a hard limit, or out of memory)'
        : signal === 'SIGSEGV'
          ? ' (a memory fault, perhaps past the memory limit)'
          : '';
  return `killed by ${signal}${why}`;
}
