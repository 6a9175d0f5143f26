/**
 * `ecp server --admin-port` and `ecp admin` as an operator runs them: a spawned server, members
 * joined over TCP, and each subcommand as a table and as --json, with its errors and exit codes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpClient, type SystemEvent } from '../../../reference-client/index.ts';
import { ROOT, runEcp } from '../../support/run-ecp.ts';
import { testKeys } from '../../support/test-keys.ts';

const TOKEN = 'operator-token-for-the-cli-test';
const PASSWORD = 'secret123';
const tokenFile = join(mkdtempSync(join(tmpdir(), 'ecp-admin-cli-')), 'admin.token');
writeFileSync(tokenFile, `${TOKEN}\n`);

let server: ChildProcess;
let serverErr = '';
let url: string;
let ecpPort: number;
const members: EcpClient[] = [];

/** Starts `ecp server` with the admin API (token from the environment) and reads its ports from stdout. */
function startServerProcess(): Promise<{ ecp: number; admin: number }> {
  server = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'ecp.js'), 'server', '--port', '0', '--password', PASSWORD, '--admin-port', '0'],
    { cwd: ROOT, env: { ...process.env, ECP_ADMIN_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stderr!.setEncoding('utf8').on('data', (text: string) => {
    serverErr += text;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const ecp = /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      const admin = /admin API on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (ecp && admin) resolve({ ecp: Number(ecp[1]), admin: Number(admin[1]) });
    });
    server.once('exit', (code) => reject(new Error(`ecp server exited ${code}: ${serverErr}`)));
  });
}

async function join_(name: string, key: number): Promise<EcpClient> {
  const client = new EcpClient({
    host: '127.0.0.1',
    port: ecpPort,
    username: name,
    password: PASSWORD,
    keyPair: (await testKeys())[key]!,
  });
  members.push(client);
  await client.connect();
  return client;
}

const admin = (...args: string[]) => runEcp(['admin', '--url', url, '--token-file', tokenFile, ...args]);

beforeAll(async () => {
  const ports = await startServerProcess();
  ecpPort = ports.ecp;
  url = `http://127.0.0.1:${ports.admin}`;
  await join_('alice', 0);
  await join_('bob', 1);
});

afterAll(async () => {
  await Promise.all(members.map((member) => member.close()));
  if (server.exitCode === null) server.kill('SIGKILL');
});

describe('ecp admin against a running server', () => {
  it('status: a table, and the JSON with --json', async () => {
    const table = await admin('status');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^uptime +\d+ s$/m);
    expect(table.stdout).toMatch(new RegExp(`^listeners +tcp://127\\.0\\.0\\.1:${ecpPort}$`, 'm'));
    expect(table.stdout).toMatch(/^users +2$/m);
    const json = await admin('status', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      counts: { users: 2 },
      limits: { maxConnections: 10_000 },
    });
  });

  it('users: one row per member, and the JSON with --json', async () => {
    const table = await admin('users');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +TRANSPORT +PEER +CONNECTED +PENDING OUTPUT$/);
    expect(lines.slice(1).map((line) => line.split(/ +/).slice(0, 2))).toEqual([
      ['alice', 'tcp'],
      ['bob', 'tcp'],
    ]);
    const json = JSON.parse((await admin('users', '--json')).stdout) as { users: { name: string }[] };
    expect(json.users.map((user) => user.name)).toEqual(['alice', 'bob']);
  });

  it('announce: every member reads it', async () => {
    const heard = members.map(
      (member) =>
        new Promise<string>((resolve) =>
          member.on('system', (notice: SystemEvent) => {
            if (notice.text.startsWith('Restart')) resolve(notice.text);
          }),
        ),
    );
    const run = await admin('announce', 'Restart', 'at', 'noon');
    expect(run).toMatchObject({ code: 0, stdout: 'announced to 2 members: Restart at noon\n' });
    expect(await Promise.all(heard)).toEqual(['Restart at noon', 'Restart at noon']);
  });

  it('rotate-key: every member gets a new key', async () => {
    const changed = members.map((member) => new Promise((resolve) => member.once('keyChanged', resolve)));
    const run = await admin('rotate-key', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ rotated: true, members: 2 });
    await Promise.all(changed);
  });

  it('kick: the user is gone; an unknown one is exit 4 with the reason', async () => {
    const bobClosed = new Promise((resolve) => members[1]!.once('closed', resolve));
    const run = await admin('kick', 'bob', '--reason', 'testing');
    expect(run).toMatchObject({ code: 0, stdout: 'kicked bob (reason: testing)\n' });
    await bobClosed;
    const again = await admin('kick', 'bob');
    expect(again.code).toBe(4);
    expect(again.stderr).toBe('ecp admin: refused (404): no user named "bob" in the room\n');
  });

  it('a token from the environment works like one from a file', async () => {
    const run = await runEcp(['admin', '--url', url, 'users', '--json'], { ECP_ADMIN_TOKEN: TOKEN });
    expect(run.code).toBe(0);
  });

  it('errors: no token (2), a bad URL (2), nothing listening (3)', async () => {
    const noToken = await runEcp(['admin', '--url', url, 'users'], { ECP_ADMIN_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('no admin token: give --token-file FILE or set ECP_ADMIN_TOKEN');
    const badUrl = await runEcp(['admin', '--url', 'nonsense', '--token-file', tokenFile, 'users']);
    expect(badUrl.code).toBe(2);
    const refused = await runEcp([
      'admin',
      '--url',
      'http://127.0.0.1:1',
      '--token-file',
      tokenFile,
      'users',
    ]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('connection refused');
  });

  // Last: a wrong token makes this address wait before its next attempt is checked (the unit
  // tests of the admin API show the 429 on a clock that cannot run out).
  it('a wrong token is exit 1, logged without the token', async () => {
    const wrong = await runEcp(['admin', '--url', url, 'users'], {
      ECP_ADMIN_TOKEN: 'not-the-operator-token',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('unauthorized (401)');
    expect(serverErr).toContain('admin request with a wrong token');
    expect(serverErr).not.toContain(TOKEN);
    expect(serverErr).not.toContain('not-the-operator-token');
  });
});

describe('ecp server --admin-port without a token', () => {
  it('refuses to start, exit 2, saying where the token goes', async () => {
    const run = await runEcp(['server', '--port', '0', '--admin-port', '0'], { ECP_ADMIN_TOKEN: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'ecp server: --admin-port: no admin token: give --admin-token-file FILE or set ECP_ADMIN_TOKEN\n',
    );
  });
});
