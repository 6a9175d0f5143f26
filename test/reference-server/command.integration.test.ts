/**
 * `ecp server` as a user runs it: spawned, read from stdout, connected to, stopped with a signal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { notices, type RsaKeyPair } from '../../protocol/index.ts';
import { startServer } from '../../reference-server/index.ts';
import { joinAs, ServerHarness } from '../support/server-harness.ts';
import { testKeys } from '../support/test-keys.ts';

const ECP = join(import.meta.dirname, '..', '..', 'bin', 'ecp.js');
let keys: RsaKeyPair[];
const running: ChildProcess[] = [];
const harness = new ServerHarness();

beforeAll(async () => {
  keys = await testKeys();
});

afterEach(async () => {
  await harness.stop();
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the first stdout line matching, or rejects on timeout / exit. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [ECP, 'server', ...args], {
    env: { ...process.env, ECP_PASSWORD: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const stdout: string[] = [];
  let stderr = '';
  let partial = '';
  const listeners: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    stdout.push(...lines);
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        for (const line of stdout) {
          const match = line.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match);
            return true;
          }
        }
        return false;
      };
      const timer = setTimeout(
        () => reject(new Error(`no line ${pattern}; stdout ${stdout}; stderr ${stderr}`)),
        timeoutMs,
      );
      if (check()) return;
      listeners.push(check);
      exited.then(() => {
        if (!check()) {
          clearTimeout(timer);
          reject(new Error(`exited without ${pattern}; stdout ${stdout}; stderr ${stderr}`));
        }
      });
    });
  return { child, stdout, stderr: () => stderr, waitForLine, exited };
}

function passwordFile(password: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ecp-cli-')), 'password');
  writeFileSync(file, `${password}\n`);
  return file;
}

const LISTENING = /^ECP server listening on tcp:\/\/127\.0\.0\.1:(\d+)$/;

describe('ecp server', () => {
  it('listens on the port it prints, serves v1, and on SIGTERM says goodbye and exits 0 within 2 s', async () => {
    const server = run(['--port', '0', '--password-file', passwordFile('file-secret')]);
    const port = Number((await server.waitForLine(LISTENING))[1]);
    expect(server.stdout.some((line) => line.startsWith('password:'))).toBe(false);
    const alice = await harness.connect(port);
    expect((await joinAs(alice, 'alice', 'file-secret', keys[0]!))[3]).toEqual({
      type: 'user_list',
      users: ['alice'],
    });

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await alice.next()).toEqual({ type: 'system', message: notices.shuttingDown });
    await alice.closed();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(2000);
    expect(server.stdout).toContain('ECP server stopped');

    const logs = server
      .stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const messages = logs.map((entry) => entry.msg);
    for (const msg of [
      'listening',
      'connection accepted',
      'joined',
      'signal received',
      'shutting down',
      'closed',
    ]) {
      expect(messages).toContain(msg);
    }
    expect(server.stderr()).not.toContain('file-secret');
  });

  it('generates a password, prints it once on stdout and never logs it; SIGINT exits 0', async () => {
    const server = run(['--port', '0']);
    const port = Number((await server.waitForLine(LISTENING))[1]);
    const password = (await server.waitForLine(/^password: (\S+)$/))[1]!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const client = await harness.connect(port);
    expect((await joinAs(client, 'bob', password, keys[1]!))[0]?.type).toBe('system');
    server.child.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
    expect(server.stdout.filter((line) => line.includes(password))).toHaveLength(1);
    expect(server.stderr()).not.toContain(password);
  });

  it('takes the password from ECP_PASSWORD, honours --log-level and serves metrics', async () => {
    const server = run(
      ['--port', '0', '--log-level', 'warn', '--metrics-port', '0', '--max-connections', '5'],
      {
        ECP_PASSWORD: 'env-secret',
      },
    );
    const port = Number((await server.waitForLine(LISTENING))[1]);
    const metricsPort = Number(
      (await server.waitForLine(/^metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics$/))[1],
    );
    const client = await harness.connect(port);
    await joinAs(client, 'carol', 'env-secret', keys[2]!);
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain('ecp_users 1');
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(server.stderr()).not.toContain('"msg":"joined"'); // info lines are below warn
  });

  it.each([
    [['--max-line-bytes', '-5'], /--max-line-bytes must be an integer >= 1, got -5/],
    [['--max-connections', '0'], /--max-connections must be/],
    [['--handshake-timeout-ms', 'soon'], /^ecp server: --handshake-timeout-ms takes a number, got 'soon'\n/],
    [['--port', '99999'], /--port must be an integer from 0 to 65535/],
    [['--password', 'a', '--password-file', 'b'], /either --password or --password-file/],
    [['--password-file', '/nonexistent/ecp-password'], /cannot read --password-file/],
    [['--bogus'], /Unknown argument: bogus/],
    [['--log-level', 'loud'], /Invalid values/],
    [['--slow-reader-timeout-ms', '0'], /--slow-reader-timeout-ms must be an integer >= 1, got 0/],
    [['--max-total-output-bytes', '-1'], /--max-total-output-bytes must be an integer >= 1/],
    [['--max-messages-per-second', '-2'], /--max-messages-per-second must be a number >= 0 \(0: off\)/],
    [
      ['--max-messages-per-second', '10', '--message-burst', '0.5'],
      /--message-burst must be an integer >= 1/,
    ],
    [['--max-connections-per-address', '1.5'], /--max-connections-per-address must be an integer >= 0/],
  ])('exits 2 with a clear message for %s', async (args, message) => {
    const server = run(args);
    expect((await server.exited).code).toBe(2);
    expect(server.stderr()).toMatch(message);
  });

  it('exits 1 when the port is taken, and says how to choose another', async () => {
    const holder = await startServer({ port: 0, password: 'x', logLevel: 'silent' });
    try {
      const server = run(['--port', String(holder.port), '--password', 'x']);
      expect((await server.exited).code).toBe(1);
      expect(server.stderr()).toMatch(/cannot listen on tcp:\/\/127\.0\.0\.1:\d+: EADDRINUSE/);
      expect(server.stderr()).toContain(
        'the port is in use (another server?): choose another with --port, or --port 0 for any free port',
      );
    } finally {
      await holder.close();
    }
  });

  it('serves the browser client on a WebSocket listener and prints where; --no-web-client turns it off', async () => {
    const withPage = run(['--listen', 'ws://127.0.0.1:0/ecp', '--password', 'x']);
    const [, url] = (await withPage.waitForLine(
      /^Web client on (http:\/\/127\.0\.0\.1:\d+\/)$/,
    )) as RegExpMatchArray;
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    withPage.child.kill('SIGTERM');
    expect((await withPage.exited).code).toBe(0);

    const without = run(['--listen', 'ws://127.0.0.1:0/ecp', '--password', 'x', '--no-web-client']);
    const [, port] = (await without.waitForLine(
      /^ECP server listening on ws:\/\/127\.0\.0\.1:(\d+)\/ecp$/,
    )) as RegExpMatchArray;
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(426);
    without.child.kill('SIGTERM');
    expect((await without.exited).code).toBe(0);
    expect(without.stdout.some((line) => line.startsWith('Web client on'))).toBe(false);
  });
});
