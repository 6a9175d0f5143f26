import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ECP = fileURLToPath(new URL('../../bin/ecp.js', import.meta.url));
const ANNOUNCING_SERVER = fileURLToPath(new URL('fixtures/announcing-server.mjs', import.meta.url));

const folders: string[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A server command that writes its pid (the shell's, which exec keeps) to `pidFile` first. */
function serverCommand(pidFile: string): string {
  return `echo $$ > '${pidFile}' && exec "${process.execPath}" "${ANNOUNCING_SERVER}" {port}`;
}

/** The kit's arguments for a run that spawns the server and lasts well beyond the test. */
const COMMANDS: Record<string, (pidFile: string) => string[]> = {
  conformance: (pidFile) => ['conformance', '--spawn', serverCommand(pidFile), '--timeout', '30'],
  bench: (pidFile) => ['bench', '--spawn', serverCommand(pidFile), '--duration', '300', '--clients', '2'],
};

async function serverPid(pidFile: string, kit: ChildProcess | undefined): Promise<number> {
  await expect
    .poll(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', { timeout: 20_000 })
    .toBe(true);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  pids.push(pid);
  if (kit?.pid) pids.push(kit.pid);
  return pid;
}

describe('a kit that spawned a server, ended by a signal', () => {
  for (const [command, argv] of Object.entries(COMMANDS)) {
    for (const [signal, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
      ['SIGHUP', 129],
    ] as const) {
      it(`${command}: stops the server on ${signal} and exits ${code}`, async () => {
        const folder = mkdtempSync(join(tmpdir(), 'ecp-kit-exit-'));
        folders.push(folder);
        const pidFile = join(folder, 'server.pid');
        const kit = spawn(process.execPath, [ECP, ...argv(pidFile)], { stdio: 'ignore' });
        const exited = once(kit, 'exit');
        const server = await serverPid(pidFile, kit);
        expect(alive(server)).toBe(true);
        kit.kill(signal);
        const [exitCode] = (await exited) as [number | null];
        expect(exitCode).toBe(code);
        expect(alive(server)).toBe(false);
      });
    }
  }
});

describe('a kit that spawned a server, whose parent died', () => {
  it('stops the server and exits', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ecp-kit-exit-'));
    folders.push(folder);
    const pidFile = join(folder, 'server.pid');
    const kitPidFile = join(folder, 'kit.pid');
    const quoted = [ECP, ...COMMANDS.conformance!(pidFile)].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`);
    // A shell that starts the kit and waits for it; then it is killed with no chance to pass anything on.
    const parent = spawn(
      'sh',
      ['-c', `"${process.execPath}" ${quoted.join(' ')} & echo $! > '${kitPidFile}'; wait`],
      { stdio: 'ignore' },
    );
    const server = await serverPid(pidFile, undefined);
    const kit = await serverPid(kitPidFile, undefined);
    parent.kill('SIGKILL');
    await expect.poll(() => alive(kit), { timeout: 15_000 }).toBe(false);
    expect(alive(server)).toBe(false);
  });
});
