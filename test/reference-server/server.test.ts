/**
 * The server's lifecycle over real sockets: start on a free port, the connection limit, abrupt
 * disconnects, graceful shutdown, and several servers in one process.
 */
import { connect } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authErrors, notices, type RsaKeyPair } from '../../protocol/index.ts';
import {
  type EcpServer,
  OptionsError,
  type ServerOptions,
  startServer,
} from '../../reference-server/index.ts';
import { joinAs, PASSWORD, ServerHarness } from '../support/server-harness.ts';
import { testKeys } from '../support/test-keys.ts';

let keys: RsaKeyPair[];
const harness = new ServerHarness();

beforeAll(async () => {
  keys = await testKeys();
});

afterEach(() => harness.stop());

const start = (options: ServerOptions = {}) => harness.start(options);
const connectTo = (server: EcpServer) => harness.connect(server.port);
const memberOf = (server: EcpServer, name: string, key = keys[0]!) => harness.member(name, key, server.port);

const refusedConnection = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });

describe('startServer', () => {
  it('listens on a free port with the given password, and reports both', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe('127.0.0.1');
    expect(server.password).toBe(PASSWORD);
    expect(server.passwordGenerated).toBe(false);
    expect(server.limits.maxConnections).toBe(10_000);
    await memberOf(server, 'alice');
    expect(server.usernames()).toEqual(['alice']);
  });

  it('generates a password when none is given', async () => {
    const a = await harness.start({ password: undefined });
    const b = await harness.start({ password: undefined });
    expect(a.passwordGenerated).toBe(true);
    expect(a.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a.password).not.toBe(b.password);
  });

  it('rejects invalid options and a port in use', async () => {
    await expect(startServer({ port: 0, logLevel: 'silent', limits: { maxConnections: 0 } })).rejects.toThrow(
      OptionsError,
    );
    await expect(startServer({ port: 70_000, logLevel: 'silent' })).rejects.toThrow(OptionsError);
    await expect(startServer({ port: 0, logLevel: 'silent', password: '' })).rejects.toThrow(OptionsError);
    const server = await start();
    await expect(startServer({ port: server.port, logLevel: 'silent' })).rejects.toMatchObject({
      code: 'ECP_LISTEN_FAILED',
      message: expect.stringContaining('EADDRINUSE'),
    });
  });

  it('runs several servers in one process, each with its own room and key', async () => {
    const one = await start();
    const two = await start();
    await memberOf(one, 'alice');
    await memberOf(two, 'bob');
    expect(one.usernames()).toEqual(['alice']);
    expect(two.usernames()).toEqual(['bob']);
  });
});

describe('connection limit', () => {
  it('answers a connection over the limit with Server full and closes it; frees the slot when one leaves', async () => {
    const server = await start({ limits: { maxConnections: 2 } });
    const alice = await memberOf(server, 'alice');
    const idle = await connectTo(server);
    const third = await connectTo(server);
    expect(await third.next()).toEqual({ type: 'auth_error', message: authErrors.serverFull });
    await third.closed();
    expect(server.stats().handshakeFailures.server_full).toBe(1);
    await alice.expectSilence(0);
    idle.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const fourth = await connectTo(server);
    expect((await joinAs(fourth, 'dave', PASSWORD, keys[1]!))[3]).toEqual({
      type: 'user_list',
      users: ['alice', 'dave'],
    });
  });
});

describe('abrupt disconnects', () => {
  it('treats a reset like a leave: the others see user_list and left', async () => {
    const server = await start();
    const alice = await memberOf(server, 'alice', keys[0]);
    const bob = await memberOf(server, 'bob', keys[1]);
    await alice.nextN(2);
    bob.reset();
    expect(await alice.nextN(2)).toEqual([
      { type: 'user_list', users: ['alice'] },
      { type: 'system', message: notices.left('bob') },
    ]);
  });

  it('delivers what a member sent just before it vanished (ECP-LV)', async () => {
    const server = await start();
    const alice = await memberOf(server, 'alice', keys[0]);
    const bob = await memberOf(server, 'bob', keys[1]);
    await alice.nextN(2);
    bob.send({ type: 'message', message: 'bye', encrypted: false });
    bob.end();
    expect(await alice.nextN(3)).toEqual([
      { type: 'message', sender: 'bob', message: 'bye', encrypted: false },
      { type: 'user_list', users: ['alice'] },
      { type: 'system', message: notices.left('bob') },
    ]);
  });

  it('sends nothing to the members when an unadmitted connection ends (ECP-LV-04)', async () => {
    const server = await start();
    const alice = await memberOf(server, 'alice');
    const stranger = await connectTo(server);
    stranger.sendRaw('{"type":"handshake"');
    stranger.reset();
    await alice.expectSilence();
  });

  it('counts connections open and closed', async () => {
    const server = await start();
    const a = await connectTo(server);
    await connectTo(server);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(server.stats().connectionsOpen).toBe(2);
    a.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.stats()).toMatchObject({ connectionsOpen: 1, connectionsAccepted: 2 });
  });
});

describe('graceful shutdown', () => {
  it('tells every connection, members or not, that it is shutting down, then closes them all', async () => {
    const server = await start();
    const alice = await memberOf(server, 'alice', keys[0]);
    const bob = await memberOf(server, 'bob', keys[1]);
    await alice.nextN(2);
    const stranger = await connectTo(server);
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2000);
    for (const client of [alice, bob, stranger]) {
      expect(await client.next()).toEqual({ type: 'system', message: notices.shuttingDown });
      await client.closed();
      expect(client.unread()).toEqual([]); // no leave sequences for one another
    }
    expect(await refusedConnection(server.port)).toBe('ECONNREFUSED');
  });

  it('flushes output queued before the shutdown notice', async () => {
    const server = await start();
    const alice = await memberOf(server, 'alice', keys[0]);
    const bob = await memberOf(server, 'bob', keys[1]);
    await alice.nextN(2);
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ type: 'message', message: `m${i}`, encrypted: false }),
    );
    alice.sendRaw(`${lines.join('\n')}\n`);
    await alice.next(); // the server has read the burst
    await server.close();
    const received = await bob.nextN(201);
    expect(received.at(-1)).toEqual({ type: 'system', message: notices.shuttingDown });
    expect(received.slice(0, 200).map((m) => m.message)).toEqual(lines.map((_, i) => `m${i}`));
  });

  it('cuts off a client that neither reads nor closes, within the grace period', async () => {
    const server = await start({ shutdownGraceMs: 300, limits: { maxPendingOutputBytes: 1 << 30 } });
    const sender = await memberOf(server, 'sender', keys[0]);
    const stuck = await memberOf(server, 'stuck', keys[1]);
    await sender.nextN(2);
    stuck.pause();
    const big = JSON.stringify({ type: 'message', message: 'q'.repeat(512 * 1024), encrypted: false });
    for (let i = 0; i < 16; i++) {
      sender.sendRaw(`${big}\n`);
      await sender.next(10_000);
    }
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(server.stats().connectionsOpen).toBe(0);
  });

  it('is idempotent and refuses connections while closing', async () => {
    const server = await start();
    await memberOf(server, 'alice');
    const first = server.close();
    const second = server.close();
    expect(server.closing).toBe(true);
    await Promise.all([first, second]);
    expect(await refusedConnection(server.port)).toBe('ECONNREFUSED');
  });
});
