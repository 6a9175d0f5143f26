/**
 * The admin API over real sockets, in this process: the token, the slowdown after wrong ones, each
 * endpoint, bad input, and what members see of an announcement, a kick and a key rotation.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RsaKeyPair } from '../../../protocol/index.ts';
import { EcpClient, type SystemEvent, type UsersEvent } from '../../../reference-client/index.ts';
import {
  createLogger,
  type EcpServer,
  type ServerOptions,
  startServer,
} from '../../../reference-server/index.ts';
import { testKeys } from '../../support/test-keys.ts';

const PASSWORD = 'secret123';
const TOKEN = 'the-operator-token-0123';
let keys: RsaKeyPair[];
const servers: EcpServer[] = [];
const clients: EcpClient[] = [];

beforeAll(async () => {
  keys = await testKeys();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server with the admin API (no slowdown unless asked) whose log lines land in `log`. */
async function adminServer(options: ServerOptions = {}, baseDelayMs = 0) {
  const log: string[] = [];
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    password: PASSWORD,
    metricsPort: 0,
    logger: createLogger('info', { write: (line: string) => log.push(line) }),
    admin: { port: 0, token: TOKEN, throttle: { baseDelayMs } },
    ...options,
  });
  servers.push(server);
  const call = async (method: string, path: string, body?: string, token: string | null = TOKEN) => {
    const response = await fetch(`http://127.0.0.1:${server.adminPort}${path}`, {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body }),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    return Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  };
  return { server, log, call, metric };
}

async function member(server: EcpServer, name: string, key: RsaKeyPair): Promise<EcpClient> {
  const client = new EcpClient({
    host: '127.0.0.1',
    port: server.port,
    username: name,
    password: PASSWORD,
    keyPair: key,
  });
  clients.push(client);
  await client.connect();
  return client;
}

function next<E extends 'system' | 'users' | 'keyChanged' | 'closed' | 'message'>(
  client: EcpClient,
  event: E,
  match: (value: never) => boolean = () => true,
) {
  return new Promise<unknown>((resolve) => {
    const listener = (value: never) => {
      if (!match(value)) return;
      client.off(event, listener as never);
      resolve(value);
    };
    client.on(event, listener as never);
  });
}

describe('admin API: the token', () => {
  it('answers 401 without a token or with a wrong one, and counts it', async () => {
    const { call, metric } = await adminServer();
    for (const token of [null, 'wrong-token-wrong-token', `${TOKEN}x`, '']) {
      const answer = await call('GET', '/status', undefined, token);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="ecp-admin"');
      expect(answer.body.error).toMatch(/missing or wrong token/);
    }
    expect(await metric('ecp_admin_rejected_total{reason="unauthorized"}')).toBe(4);
    expect((await call('GET', '/status')).status).toBe(200);
  });

  it('refuses a source unchecked for a while after a wrong token, even with the right one, and counts it', async () => {
    const { call, metric, log } = await adminServer({}, 60_000);
    expect((await call('GET', '/users', undefined, 'wrong-token-wrong-token')).status).toBe(401);
    const refused = await call('GET', '/users');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(await metric('ecp_admin_rejected_total{reason="throttled"}')).toBe(1);
    expect(await metric('ecp_admin_rejected_total{reason="unauthorized"}')).toBe(1);
    expect(log.join('')).toContain('admin request with a wrong token');
  });

  it('does not slow down a request that carried no token', async () => {
    const { call } = await adminServer({}, 60_000);
    expect((await call('GET', '/status', undefined, null)).status).toBe(401);
    expect((await call('GET', '/status')).status).toBe(200);
  });

  it('never logs the token, whatever is asked', async () => {
    const { server, call, log } = await adminServer();
    await member(server, 'alice', keys[0]!);
    await call('GET', '/status');
    await call('POST', '/announce', JSON.stringify({ text: 'maintenance at noon' }));
    await call('POST', '/kick', JSON.stringify({ name: 'nobody' }));
    await call('GET', '/status', undefined, `${TOKEN}-almost`);
    expect(log.length).toBeGreaterThan(4);
    expect(log.join('')).not.toContain(TOKEN);
  });

  it('closes with the server', async () => {
    const { server, call } = await adminServer();
    await server.close();
    await expect(call('GET', '/status')).rejects.toThrow(/fetch failed/);
  });

  it('will not start without a usable token', async () => {
    await expect(
      startServer({ port: 0, logLevel: 'silent', admin: { port: 0, token: 'short' } }),
    ).rejects.toThrow(/at least 16 characters/);
  });
});

describe('admin API: the endpoints', () => {
  it('status: limits, counts, uptime and listeners', async () => {
    const { server, call, metric } = await adminServer();
    await member(server, 'alice', keys[0]!);
    const { status, body } = await call('GET', '/status');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      listeners: server.endpoints,
      metricsPort: server.metricsPort,
      limits: { maxConnections: 10_000, maxLineBytes: 1_048_576 },
      flow: { rotateKeyOnLeave: false },
      counts: { connections: 1, users: 1 },
    });
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(await metric('ecp_admin_actions_total{action="status"}')).toBe(1);
  });

  it('users: name, transport, peer, connection age and pending output, in join order', async () => {
    const { server, call } = await adminServer();
    await member(server, 'alice', keys[0]!);
    await member(server, 'bob', keys[1]!);
    const { body } = await call('GET', '/users');
    const users = body.users as Record<string, unknown>[];
    expect(users.map((user) => user.name)).toEqual(['alice', 'bob']);
    for (const user of users) {
      expect(user).toMatchObject({ transport: 'tcp', pendingOutputBytes: 0 });
      expect(user.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(user.connectedMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('announce: every member gets the notice', async () => {
    const { server, call, log } = await adminServer();
    const alice = await member(server, 'alice', keys[0]!);
    const bob = await member(server, 'bob', keys[1]!);
    const seen = [alice, bob].map((client) =>
      next(client, 'system', (notice: SystemEvent) => notice.text.startsWith('Maintenance')),
    );
    const answer = await call('POST', '/announce', JSON.stringify({ text: 'Maintenance at noon' }));
    expect(answer).toMatchObject({ status: 200, body: { announced: 'Maintenance at noon', members: 2 } });
    for (const notice of await Promise.all(seen))
      expect((notice as SystemEvent).text).toBe('Maintenance at noon');
    expect(log.filter((line) => line.includes('"admin action"') && line.includes('"announce"'))).toHaveLength(
      1,
    );
  });

  it('kick: the user reads why and is closed, the others see the usual leave', async () => {
    const { server, call, metric } = await adminServer();
    const alice = await member(server, 'alice', keys[0]!);
    const bob = await member(server, 'bob', keys[1]!);
    const bobHears = next(bob, 'system', (notice: SystemEvent) => notice.text.includes('operator'));
    const bobClosed = next(bob, 'closed');
    const aliceSeesList = next(alice, 'users', (users: UsersEvent) => users.left.length > 0);
    const aliceHears = next(alice, 'system', (notice: SystemEvent) => notice.text.includes('left'));
    const answer = await call('POST', '/kick', JSON.stringify({ name: 'bob', reason: 'spamming' }));
    expect(answer).toMatchObject({ status: 200, body: { kicked: 'bob', reason: 'spamming' } });
    expect(((await bobHears) as SystemEvent).text).toBe('You were disconnected by the operator: spamming');
    await bobClosed;
    expect(((await aliceSeesList) as UsersEvent).left).toEqual(['bob']);
    expect(((await aliceHears) as SystemEvent).text).toBe('bob has left the chat');
    expect(server.usernames()).toEqual(['alice']);
    expect(await metric('ecp_admin_actions_total{action="kick"}')).toBe(1);
  });

  it('rotate-key: every member gets a new key and the room chats on with it', async () => {
    const { server, call, metric } = await adminServer();
    const alice = await member(server, 'alice', keys[0]!);
    const bob = await member(server, 'bob', keys[1]!);
    const carol = await member(server, 'carol', keys[2]!);
    const changed = [alice, bob, carol].map((client) => next(client, 'keyChanged'));
    const answer = await call('POST', '/rotate-key');
    expect(answer).toMatchObject({ status: 200, body: { rotated: true, members: 3 } });
    await Promise.all(changed);
    const received = [bob, carol].map((client) => next(client, 'message', (m: { own: boolean }) => !m.own));
    alice.send('after the rotation');
    for (const message of await Promise.all(received)) {
      expect(message).toMatchObject({ kind: 'encrypted', key: 'current', text: 'after the rotation' });
    }
    expect(await metric('ecp_key_rotations_total')).toBe(1);
    expect(await metric('ecp_admin_actions_total{action="rotate_key"}')).toBe(1);
  });
});

describe('admin API: bad input gets a 4xx with a message, and the server goes on', () => {
  it.each([
    ['GET', '/nowhere', 404, 'no such endpoint: /nowhere', undefined, 'not_found'],
    ['POST', '/status', 405, '/status takes GET', undefined, 'method_not_allowed'],
    ['GET', '/announce', 405, '/announce takes POST', undefined, 'method_not_allowed'],
    ['POST', '/announce', 400, 'the body is not JSON', '{"text":', 'bad_request'],
    ['POST', '/announce', 400, 'the body must be a JSON object', '[1,2]', 'bad_request'],
    ['POST', '/announce', 400, 'missing field "text"', '{}', 'bad_request'],
    ['POST', '/announce', 400, '"text" must be a string', '{"text":42}', 'bad_request'],
    ['POST', '/announce', 400, '"text" is empty', '{"text":"  "}', 'bad_request'],
    ['POST', '/announce', 400, '"text" holds control characters', '{"text":"a\\nb"}', 'bad_request'],
    ['POST', '/announce', 400, 'longer than 1000', JSON.stringify({ text: 'x'.repeat(1001) }), 'bad_request'],
    ['POST', '/announce', 400, 'unknown field "txt"', '{"txt":"hi"}', 'bad_request'],
    ['POST', '/kick', 404, 'no user named "nobody"', '{"name":"nobody"}', 'not_found'],
    ['POST', '/kick', 400, '"reason" must be a string', '{"name":"alice","reason":7}', 'bad_request'],
    ['POST', '/rotate-key', 400, 'unknown field "now"', '{"now":true}', 'bad_request'],
    [
      'POST',
      '/announce',
      413,
      'larger than 16384 bytes',
      JSON.stringify({ text: 'x'.repeat(20_000) }),
      'too_large',
    ],
  ])('%s %s → %i: %s', async (method, path, status, message, body, reason) => {
    const { server, call, metric } = await adminServer();
    await member(server, 'alice', keys[0]!);
    const answer = await call(method, path, body);
    expect(answer.status).toBe(status);
    expect(answer.body.error).toContain(message);
    expect(await metric(`ecp_admin_rejected_total{reason="${reason}"}`)).toBe(1);
    expect((await call('GET', '/users')).body.users).toHaveLength(1);
  });
});
