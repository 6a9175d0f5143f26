/**
 * A node killed with -9 (an `ecp server --cluster` process) while its member is broadcasting: the
 * surviving node's members see it leave within 5 s, and a restart under the same node id leaves
 * no ghost. The survivor runs in this process; the victim is a real `ecp server` process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { notices, type RsaKeyPair } from '../../../protocol/index.ts';
import { findFreePort } from '../../../transport/index.ts';
import { RedisServer, redisMissing } from '../../support/redis-server.ts';
import { ROOT, runEcp } from '../../support/run-ecp.ts';
import { handshake, ServerHarness } from '../../support/server-harness.ts';
import { testKeys } from '../../support/test-keys.ts';

const missing = redisMissing();
let keys: RsaKeyPair[];
let redis: RedisServer;
let harness: ServerHarness;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  keys = await testKeys();
});

beforeEach(async () => {
  if (missing !== undefined) return;
  redis = await RedisServer.start();
  harness = new ServerHarness();
});

afterEach(async () => {
  if (missing !== undefined) return;
  for (const child of children) await kill(child);
  await harness.stop();
  await redis.stop();
});

/** `ecp server --cluster` as its own process; resolves once it listens. */
async function spawnNode(nodeId: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'ecp.js'),
      'server',
      '--cluster',
      redis.url,
      '--room',
      'test',
      '--node-id',
      nodeId,
      '--port',
      String(port),
      '--password',
      harness.password,
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`room test shared through ${redis.url}`)) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`ecp server exited (${code}): ${output}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(missing !== undefined)(`a node killed with -9${missing ? ` (${missing})` : ''}`, () => {
  it('is noticed by the survivors within 5 s, its members removed with the v1 leave lines', async () => {
    const a = await harness.start({ cluster: { url: redis.url, room: 'test', nodeId: 'a' } });
    const victimPort = await findFreePort();
    const victim = await spawnNode('b', victimPort);
    const alice = await harness.member('alice', keys[0]!, a.port);
    const bob = await harness.member('bob', keys[1]!, victimPort);
    await alice.expect((m) => m.type === 'system' && m.message === notices.joined('bob'));
    // Mid-broadcast: bob is sending when his node dies.
    for (let n = 0; n < 200; n++) bob.send({ type: 'message', message: `from bob ${n}`, encrypted: false });
    await alice.expect((m) => m.type === 'message' && m.sender === 'bob');
    await kill(victim);
    const killedAt = Date.now();
    await alice.expect((m) => m.type === 'system' && m.message === notices.left('bob'), 5_000);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    // The leave comes with its user_list, and the chat that got through is in order.
    const leftAt = alice.received.findIndex((m) => m.type === 'system' && m.message === notices.left('bob'));
    expect(alice.received[leftAt - 1]).toEqual({ type: 'user_list', users: ['alice'] });
    const fromBob = alice.received.filter((m) => m.type === 'message').map((m) => m.message);
    expect(fromBob).toEqual(Array.from({ length: fromBob.length }, (_, n) => `from bob ${n}`));
    expect(a.usernames()).toEqual(['alice']);
  });

  it('leaves no ghost when it restarts under the same node id', async () => {
    const a = await harness.start({ cluster: { url: redis.url, room: 'test', nodeId: 'a' } });
    const victimPort = await findFreePort();
    const victim = await spawnNode('b', victimPort);
    const alice = await harness.member('alice', keys[0]!, a.port);
    await harness.member('bob', keys[1]!, victimPort);
    await alice.expect((m) => m.type === 'system' && m.message === notices.joined('bob'));
    await kill(victim);
    // Back at once, before its lease could expire: it removes its previous run's members itself.
    await spawnNode('b', victimPort);
    await alice.expect((m) => m.type === 'system' && m.message === notices.left('bob'), 5_000);
    const bobAgain = await harness.connect(victimPort);
    handshake(bobAgain, 'bob', harness.password, keys[2]!);
    await bobAgain.expect((m) => m.type === 'user_list');
    expect(bobAgain.received.at(-1)).toEqual({ type: 'user_list', users: ['alice', 'bob'] });
    expect(a.usernames()).toEqual(['alice', 'bob']);
  });
});

describe('ecp server --cluster options', () => {
  it('refuses the cluster flags without --cluster, and a URL that is not redis://, with exit code 2', async () => {
    const alone = await runEcp(['server', '--port', '0', '--room', 'lobby']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--room, --node-id and --cluster-retention go with --cluster');
    const http = await runEcp(['server', '--port', '0', '--cluster', 'http://127.0.0.1:6379']);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('cluster URL must start with redis:// or rediss://');
    const retention = await runEcp([
      'server',
      '--port',
      '0',
      '--cluster',
      'redis://127.0.0.1:6379',
      '--cluster-retention',
      '5',
    ]);
    expect(retention.code).toBe(2);
    expect(retention.stderr).toContain('retention must be an integer >= 100');
  });
});
