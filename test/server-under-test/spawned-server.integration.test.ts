import { describe, expect, it } from 'vitest';
import { SpawnedServer, shellQuote, TargetStartError } from '../../server-under-test/spawned-server.ts';
import { canConnect, findFreePort } from '../../transport/index.ts';

// A tiny TCP server in plain Node: listens on the port given as argv[1] and says so on stdout.
const LISTENER = `node -e "const n=require('net');const p=+process.argv[1];n.createServer(s=>s.end()).listen(p,'127.0.0.1',()=>console.log('listening on',p))" {port}`;

describe('SpawnedServer', () => {
  it('starts a command on the given port, keeps its output and stops it', async () => {
    const port = await findFreePort();
    const server = new SpawnedServer({ command: LISTENER, host: '127.0.0.1', port, startTimeoutMs: 10_000 });
    await server.start();
    expect(await canConnect({ host: '127.0.0.1', port })).toBe(true);
    // The port accepts connections before the child's listen callback has printed, and its stdout
    // (a pipe) is written asynchronously: the line comes when it comes. Then it must survive stop().
    await expect.poll(() => server.output.text(), { timeout: 10_000 }).toContain(`listening on ${port}`);
    await server.stop();
    expect(server.output.text()).toContain(`listening on ${port}`);
    expect(await canConnect({ host: '127.0.0.1', port })).toBe(false);
  });

  it('reports a command that exits before listening, with what it printed', async () => {
    const port = await findFreePort();
    const server = new SpawnedServer({
      command: 'echo "cannot bind: config missing" >&2; exit 3',
      host: '127.0.0.1',
      port,
      startTimeoutMs: 10_000,
    });
    const error = await server.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetStartError);
    expect((error as TargetStartError).message).toMatch(/exited \(code 3\) before accepting connections/);
    expect((error as TargetStartError).output).toContain('cannot bind: config missing');
  });

  it('stops a server that ignores SIGTERM', async () => {
    const port = await findFreePort();
    const stubborn = `node -e "process.on('SIGTERM',()=>{});require('net').createServer().listen(+process.argv[1],'127.0.0.1')" {port}`;
    const server = new SpawnedServer({ command: stubborn, host: '127.0.0.1', port, startTimeoutMs: 10_000 });
    await server.start();
    await server.stop();
    expect(await canConnect({ host: '127.0.0.1', port })).toBe(false);
  });
});

describe('{password} in a spawn command', () => {
  it('is replaced by the password as one shell word, and not shown in the command line', async () => {
    const port = await findFreePort();
    const password = `it's a "pass word" $HOME`;
    const server = new SpawnedServer({
      command: `printf '%s\\n' {password} >&2; ${LISTENER}`,
      password,
      host: '127.0.0.1',
      port,
      startTimeoutMs: 10_000,
    });
    await server.start();
    await server.stop();
    expect(server.output.text()).toContain(`${password}\n`);
    expect(server.commandLine).toContain('{password}');
    expect(server.commandLine).not.toContain('pass word');
  });

  it('is quoted so that any text survives the shell', () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(shellQuote('')).toBe("''");
  });
});
