/**
 * Reference server nodes in this process sharing one room through a real redis-server: join and
 * leave sequences across nodes, one order for everyone, names reserved cluster-wide, and Redis
 * going away and coming back (with its data, and without).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectPeer, type PeerConnection, type Received } from '../../../conformance/peer/index.ts';
import { notices, type RsaKeyPair } from '../../../protocol/index.ts';
import { clusterNotices } from '../../../reference-server/cluster/notices.ts';
import type { EcpServer } from '../../../reference-server/index.ts';
import { RedisServer, redisMissing } from '../../support/redis-server.ts';
import { handshake, joinAs, ServerHarness } from '../../support/server-harness.ts';
import { TcpRelay } from '../../support/tcp-relay.ts';
import { testKeys } from '../../support/test-keys.ts';

const missing = redisMissing();
let keys: RsaKeyPair[];
let redis: RedisServer;
let harness: ServerHarness;

beforeAll(async () => {
  keys = await testKeys();
});

beforeEach(async () => {
  if (missing !== undefined) return;
  redis = await RedisServer.start();
  harness = new ServerHarness();
});

/** Clients the harness did not open (WebSocket ones). */
const opened: PeerConnection[] = [];

afterEach(async () => {
  if (missing !== undefined) return;
  for (const client of opened.splice(0)) client.destroy();
  await harness.stop();
  await redis.stop();
});

function node(id: string, extra: { retention?: number } = {}): Promise<EcpServer> {
  return harness.start({ cluster: { url: redis.url, room: 'test', nodeId: id, ...extra }, metricsPort: 0 });
}

/** Polls an async condition every 20 ms until it holds, or throws after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One value from the node's /metrics. */
async function metric(server: EcpServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no metric ${name}`);
  return Number(line.slice(name.length + 1));
}

/** The chat lines (sender: text) among what a member received, in order. */
function chats(client: PeerConnection): string[] {
  return client.received.filter((m) => m.type === 'message').map((m) => `${m.sender}: ${m.message}`);
}

async function chatCount(client: PeerConnection, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (chats(client).length < count) {
    if (Date.now() > deadline) throw new Error(`got ${chats(client).length} of ${count} chat lines`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function say(client: PeerConnection, text: string): void {
  client.send({ type: 'message', message: text, encrypted: false });
}

describe.skipIf(missing !== undefined)(
  `two or three nodes on one Redis${missing ? ` (${missing})` : ''}`,
  () => {
    it('gives a TCP member of one node and a WebSocket member of another the v1 sequences, cluster-wide', async () => {
      const a = await node('a');
      const b = await harness.start({
        cluster: { url: redis.url, room: 'test', nodeId: 'b' },
        listen: ['ws://127.0.0.1:0/ecp'],
        host: undefined,
        port: undefined,
      });
      const alice = await harness.member('alice', keys[0]!, a.port);
      const bob = await connectPeer({ transport: 'ws', host: '127.0.0.1', port: b.port, path: '/ecp' });
      opened.push(bob);
      await joinAs(bob, 'bob', harness.password, keys[1]!);
      expect(bob.received.slice(0, 4).map((m) => m.type)).toEqual([
        'system',
        'key_exchange',
        'system',
        'user_list',
      ]);
      expect(bob.received[3]).toEqual({ type: 'user_list', users: ['alice', 'bob'] });
      expect(await alice.nextN(2)).toEqual([
        { type: 'user_list', users: ['alice', 'bob'] },
        { type: 'system', message: notices.joined('bob') },
      ]);
      // One room key for both nodes.
      expect(a.usernames()).toEqual(['alice', 'bob']);
      expect(b.usernames()).toEqual(['alice', 'bob']);

      say(alice, 'hello');
      expect(await bob.next()).toEqual({
        type: 'message',
        sender: 'alice',
        message: 'hello',
        encrypted: false,
      });
      expect(await alice.next()).toEqual({
        type: 'message',
        sender: 'alice',
        message: 'hello',
        encrypted: false,
      });

      bob.end();
      expect(await alice.nextN(2)).toEqual([
        { type: 'user_list', users: ['alice'] },
        { type: 'system', message: notices.left('bob') },
      ]);
    });

    it('shares one room key between nodes that start together', async () => {
      const [a, b] = await Promise.all([node('a'), node('b')]);
      const alice = await harness.member('alice', keys[0]!, a.port);
      const bob = await harness.member('bob', keys[1]!, b.port);
      const keyOf = (client: PeerConnection) =>
        client.received.find((m) => m.type === 'key_exchange')!.encrypted_key;
      const { unwrapRoomKey } = await import('../../../protocol/index.ts');
      expect(unwrapRoomKey(keyOf(alice), keys[0]!.privateKey)).toBe(
        unwrapRoomKey(keyOf(bob), keys[1]!.privateKey),
      );
    });

    it('delivers every message to a member of each of three nodes in one order, relays before echo', async () => {
      const nodes = [await node('a'), await node('b'), await node('c')];
      const members: PeerConnection[] = [];
      for (const [i, server] of nodes.entries())
        members.push(await harness.member(`m${i}`, keys[i]!, server.port));
      const perMember = 30;
      for (let n = 0; n < perMember; n++)
        for (const [i, member] of members.entries()) say(member, `${i}.${n}`);
      const total = perMember * members.length;
      for (const member of members) await chatCount(member, total);
      const order = chats(members[0]!);
      for (const member of members) expect(chats(member)).toEqual(order);
      // Each sender's own messages in the order it sent them.
      for (const [i] of members.entries()) {
        expect(order.filter((line) => line.startsWith(`m${i}:`))).toEqual(
          Array.from({ length: perMember }, (_, n) => `m${i}: ${i}.${n}`),
        );
      }
    });

    it('gives a name raced on two nodes to exactly one of them', async () => {
      const a = await node('a');
      const b = await node('b');
      const first = await harness.connect(a.port);
      const second = await harness.connect(b.port);
      handshake(first, 'carol', harness.password, keys[0]!);
      handshake(second, 'carol', harness.password, keys[1]!);
      const answers = [await first.next(), await second.next()];
      const welcomed = answers.filter((m) => m.message === notices.welcome('carol'));
      const refused = answers.filter((m) => m.message === notices.usernameTaken);
      expect([welcomed.length, refused.length]).toEqual([1, 1]);
      // The refused one may try another name on the same connection, as in v1.
      const loser = refused[0] === answers[0] ? first : second;
      handshake(loser, 'carol2', harness.password, keys[2]!);
      await loser.expect((m) => m.type === 'user_list' && m.users.includes('carol2'));
      expect(a.usernames()).toEqual(['carol', 'carol2']);
    });

    it('loses nothing when Redis restarts with its data mid-chat: what was sent meanwhile waits', async () => {
      const a = await node('a');
      const b = await node('b');
      const alice = await harness.member('alice', keys[0]!, a.port);
      const bob = await harness.member('bob', keys[1]!, b.port);
      for (let n = 0; n < 20; n++) say(alice, `before ${n}`);
      await chatCount(bob, 20);
      await redis.restart({
        keepData: true,
        whileDown: async () => {
          await until(async () => (await metric(b, 'ecp_cluster_link_up')) === 0);
          for (let n = 0; n < 10; n++) say(bob, `during ${n}`);
          await until(async () => (await metric(b, 'ecp_cluster_unconfirmed_messages')) === 10);
        },
      });
      for (let n = 0; n < 10; n++) say(alice, `after ${n}`);
      await chatCount(alice, 40);
      await chatCount(bob, 40);
      expect(chats(alice)).toEqual(chats(bob));
      expect(new Set(chats(alice)).size).toBe(40);
      expect(
        alice.received.concat(bob.received).filter((m) => m.type === 'system' && m !== undefined),
      ).not.toContainEqual(expect.objectContaining({ message: clusterNotices.notSent }));
      expect(a.usernames()).toEqual(['alice', 'bob']);
      for (const server of [a, b]) {
        expect(await metric(server, 'ecp_cluster_link_up')).toBe(1);
        expect(await metric(server, 'ecp_cluster_reconnects_total')).toBeGreaterThan(0);
        expect(await metric(server, 'ecp_cluster_lost_events_total')).toBe(0);
      }
      expect(await metric(b, 'ecp_cluster_publish_to_deliver_seconds_count')).toBe(10);
    });

    it('says so when Redis comes back empty, restores the room and goes on', async () => {
      const a = await node('a');
      const b = await node('b');
      const alice = await harness.member('alice', keys[0]!, a.port);
      const bob = await harness.member('bob', keys[1]!, b.port);
      say(alice, 'before');
      await chatCount(bob, 1);
      await redis.restart({ keepData: false });
      for (const member of [alice, bob]) {
        await member.expect(
          (m: Received) => m.type === 'system' && m.message === clusterNotices.logReset,
          10_000,
        );
      }
      await alice.expect((m: Received) => m.type === 'user_list' && m.users.length === 2, 10_000);
      say(bob, 'after');
      await chatCount(alice, 2);
      expect(chats(alice)).toEqual(['alice: before', 'bob: after']);
      // Names are still reserved: a newcomer cannot take one.
      const eve = await harness.connect(a.port);
      handshake(eve, 'alice', harness.password, keys[2]!);
      expect(await eve.next()).toEqual({ type: 'system', message: notices.usernameTaken });
    });

    it('removes the members of a node that stopped cleanly, and its room key stays', async () => {
      const a = await node('a');
      const alice = await harness.member('alice', keys[0]!, a.port);
      const b = await node('b');
      await harness.member('bob', keys[1]!, b.port);
      await alice.expect((m) => m.type === 'system' && m.message === notices.joined('bob'));
      await b.close();
      await alice.expect((m) => m.type === 'system' && m.message === notices.left('bob'));
      expect(a.usernames()).toEqual(['alice']);
    });
  },
);

describe.skipIf(missing !== undefined)(`a node cut off from Redis${missing ? ` (${missing})` : ''}`, () => {
  let relay: TcpRelay;
  beforeEach(async () => {
    if (missing !== undefined) return;
    relay = await TcpRelay.start(redis.port);
  });
  afterEach(async () => {
    await relay?.stop();
  });

  /** Node `cut`, reaching Redis through the relay, and node `b`, directly; a member on each. */
  async function cutAndWhole(retention?: number) {
    const cut = await harness.start({
      cluster: {
        url: `redis://127.0.0.1:${relay.port}`,
        room: 'test',
        nodeId: 'cut',
        ...(retention ? { retention } : {}),
      },
      metricsPort: 0,
    });
    const b = await node('b', retention ? { retention } : {});
    const alice = await harness.member('alice', keys[0]!, cut.port);
    const bob = await harness.member('bob', keys[1]!, b.port);
    await alice.expect((m) => m.type === 'system' && m.message === notices.joined('bob'));
    return { cut, b, alice, bob };
  }

  it('delivers what its members missed once back, once each, in order', async () => {
    const { cut, alice, bob } = await cutAndWhole();
    say(bob, 'first');
    await chatCount(alice, 1);
    relay.cut();
    await until(async () => (await metric(cut, 'ecp_cluster_link_up')) === 0);
    for (let n = 0; n < 50; n++) say(bob, `missed ${n}`);
    say(alice, 'sent while cut');
    await chatCount(bob, 51);
    relay.restore();
    await chatCount(alice, 52);
    await chatCount(bob, 52);
    expect(chats(alice)).toEqual(chats(bob));
    expect(chats(alice).at(-1)).toBe('alice: sent while cut');
    expect(await metric(cut, 'ecp_cluster_recovered_events_total')).toBeGreaterThanOrEqual(50);
    expect(await metric(cut, 'ecp_cluster_lost_events_total')).toBe(0);
    // Joins cannot wait for a reservation while cut: refused, saying why.
    relay.cut();
    await until(async () => (await metric(cut, 'ecp_cluster_link_up')) === 0);
    const carol = await harness.connect(cut.port);
    handshake(carol, 'carol', harness.password, keys[2]!);
    expect(await carol.next()).toEqual({ type: 'auth_error', message: 'Room unavailable, try again later' });
    relay.restore();
  });

  it('tells its members messages were lost when it fell behind past the retention window', async () => {
    const retention = 100;
    const { cut, alice, bob } = await cutAndWhole(retention);
    relay.cut();
    await until(async () => (await metric(cut, 'ecp_cluster_link_up')) === 0);
    // Far more than the window (Redis trims in blocks of about 100 entries), in steps node b keeps up with.
    for (let step = 1; step <= 12; step++) {
      for (let n = 0; n < 50; n++) say(bob, `burst ${step}.${n}`);
      await chatCount(bob, 50 * step);
    }
    relay.restore();
    const notice = await alice.expect(
      (m) => m.type === 'system' && typeof m.message === 'string' && m.message.includes('messages were lost'),
      10_000,
    );
    expect(notice.message).toMatch(/could not recover \d+ room event/);
    expect(await alice.next()).toEqual({ type: 'user_list', users: ['alice', 'bob'] });
    expect(await metric(cut, 'ecp_cluster_lost_events_total')).toBeGreaterThan(0);
    // And it goes on from there.
    say(bob, 'after');
    await alice.expect((m) => m.type === 'message' && m.message === 'after');
  });
});
