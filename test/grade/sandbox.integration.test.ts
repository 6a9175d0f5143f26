import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeExitStatus, detectShellLimits, sandboxScript } from '../../grade/sandbox.ts';
import { groupAlive } from '../../server-under-test/process-group.ts';
import { SpawnedServer } from '../../server-under-test/spawned-server.ts';
import { findFreePort } from '../../transport/index.ts';

const LISTENER = `node -e "require('net').createServer(s=>s.end()).listen(+process.argv[1],'127.0.0.1')" {port}`;
const limits = { cpuSeconds: 60, memoryMb: 4096, processes: 256 };

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'ecp-sandbox-'));
  return { pidFile: join(dir, 'pid'), exitFile: join(dir, 'exit') };
}

async function start(command: string, where = files(), resources = limits) {
  const port = await findFreePort();
  const server = new SpawnedServer({
    command: sandboxScript(command, tmpdir(), resources, where),
    host: '127.0.0.1',
    port,
    startTimeoutMs: 10_000,
  });
  return { server, files: where, port };
}

describe('the sandbox around a student server', () => {
  it('records the process group, and no exit status when the kit stops the server', async () => {
    const { server, files } = await start(LISTENER);
    await server.start();
    const group = Number(readFileSync(files.pidFile, 'utf8'));
    expect(() => process.kill(-group, 0)).not.toThrow();
    await server.stop();
    expect(existsSync(files.exitFile)).toBe(false);
    expect(groupAlive(group)).toBe(false);
  });

  it('records how a server that ends on its own ended', async () => {
    const { server, files } = await start(`${LISTENER} & sleep 0.5; exit 3`);
    await server.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await server.stop();
    expect(readFileSync(files.exitFile, 'utf8').trim()).toBe('3');
  });

  it('ends with the status of the command it wraps: a client is judged by its exit status', () => {
    const where = files();
    const run = spawnSync('/bin/sh', ['-c', sandboxScript('exit 3', tmpdir(), limits, where)]);
    expect(run.status).toBe(3);
    expect(readFileSync(where.exitFile, 'utf8').trim()).toBe('3');
  });

  it.skipIf(!detectShellLimits().cpu)('stops an endless loop at the CPU limit, with SIGXCPU', async () => {
    const where = files();
    const { server } = await start(`${LISTENER} & exec node -e "for(;;);"`, where, {
      ...limits,
      cpuSeconds: 1,
    });
    await server.start();
    const deadline = Date.now() + 10_000;
    while (!existsSync(where.exitFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    expect(describeExitStatus(Number(readFileSync(where.exitFile, 'utf8')))).toBe(
      'killed by SIGXCPU (CPU time limit)',
    );
  });

  it.skipIf(!detectShellLimits().memory)('makes a runaway allocation fail in that server only', async () => {
    const where = files();
    const hog = `node -e "require('net').createServer().listen(+process.argv[1],'127.0.0.1'); setTimeout(()=>{const a=[];for(;;)a.push(Buffer.alloc(64<<20,1))},300)" {port}`;
    const { server } = await start(hog, where, { ...limits, memoryMb: 1024 });
    await server.start();
    const deadline = Date.now() + 10_000;
    while (!existsSync(where.exitFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    expect(Number(readFileSync(where.exitFile, 'utf8'))).not.toBe(0);
  });

  it('says what an exit status means', () => {
    expect(describeExitStatus(1)).toBe('exited with code 1');
    expect(describeExitStatus(137)).toBe('killed by SIGKILL (a hard limit, or out of memory)');
    expect(describeExitStatus(139)).toBe('killed by SIGSEGV (a memory fault, perhaps past the memory limit)');
  });
});
