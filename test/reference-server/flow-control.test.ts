/**
 * Flow control: unit tests of FlowControl and InputGate with fake outputs, of the token
 * bucket, then a 3,000-line burst in smaller numbers over real sockets: a sender that writes far
 * more than the pending-output cap as fast as its socket takes it, a member that reads, one that
 * has stopped. Nothing here asserts speed; the timeouts are only there so a failure cannot hang.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeerConnection, Received } from '../../conformance/peer/index.ts';
import { Fernet, notices, type RsaKeyPair, unwrapRoomKey } from '../../protocol/index.ts';
import {
  createLogger,
  createStats,
  FlowControl,
  type OutputAccount,
  type OutputSource,
  type ServerOptions,
  TokenBucket,
  watermarksFor,
} from '../../reference-server/index.ts';
import { ServerHarness } from '../support/server-harness.ts';
import { testKeys } from '../support/test-keys.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A member's output whose pending bytes the test sets. */
class FakeOutput implements OutputSource {
  readonly account: OutputAccount;
  pending = 0;
  timeouts: number[] = [];
  constructor(flow: FlowControl) {
    this.account = flow.track(this);
  }
  currentPending(): number {
    return this.pending;
  }
  timedOut(stalledMs: number): void {
    this.timeouts.push(stalledMs);
    this.account.close();
  }
  /** The connection now holds `pending` bytes (as a flush or a 'drain' would report). */
  set(pending: number, progressed = pending < this.account.accounted): void {
    this.pending = pending;
    this.account.update(pending, progressed);
  }
}

function flowWith(overrides: Partial<ConstructorParameters<typeof FlowControl>[0]> = {}) {
  const stats = createStats();
  const flow = new FlowControl(
    {
      highWaterBytes: 1000,
      lowWaterBytes: 500,
      slowReaderTimeoutMs: 60_000,
      maxTotalOutputBytes: 1_000_000,
      maxInputBytesPerTurn: 1_000_000,
      ...overrides,
    },
    stats,
  );
  return { flow, stats };
}

describe('FlowControl', () => {
  it('holds input back while a member is above the high watermark, until it drains to the low one', async () => {
    const { flow, stats } = flowWith();
    const bob = new FakeOutput(flow);
    let resumed = 0;
    const alice = flow.gate(() => resumed++);
    expect(alice.admit(100)).toBe(true);
    bob.set(1001);
    expect(flow.congested).toBe(true);
    expect(alice.admit(100)).toBe(false);
    expect(stats.inputPaused).toBe(1);
    bob.set(600); // drained some, still above the low watermark
    await turn();
    expect(resumed).toBe(0);
    bob.set(500);
    expect(flow.congested).toBe(false);
    await turn();
    expect(resumed).toBe(1);
    expect(stats.inputPaused).toBe(0);
    expect(stats.inputPauses).toBe(1);
    expect(alice.admit(100)).toBe(true);
  });

  it('resumes waiting gates in the order they stopped, and keeps the rest in place if congested again', async () => {
    const { flow } = flowWith();
    const bob = new FakeOutput(flow);
    const order: string[] = [];
    const gates = ['a', 'b', 'c'].map((name) =>
      flow.gate(() => {
        order.push(name);
        // The second to resume makes a member fall behind again.
        if (name === 'b') bob.set(5000);
      }),
    );
    bob.set(2000);
    for (const gate of gates) expect(gate.admit(1)).toBe(false);
    bob.set(0, true);
    await turn();
    expect(order).toEqual(['a', 'b']);
    bob.set(0, true);
    await turn();
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('holds input back while the output queued for everyone is over the budget', async () => {
    const { flow, stats } = flowWith({ maxTotalOutputBytes: 1500 });
    const members = [new FakeOutput(flow), new FakeOutput(flow)];
    let resumed = 0;
    const gate = flow.gate(() => resumed++);
    members[0]!.set(800);
    expect(flow.congested).toBe(false);
    members[1]!.set(800); // each under the high watermark, 1600 together
    expect(flow.congested).toBe(true);
    expect(stats.outputBudgetReached).toBe(1);
    expect(stats.outputQueuedBytes).toBe(1600);
    expect(gate.admit(1)).toBe(false);
    members[1]!.account.close(); // that member left
    expect(stats.outputQueuedBytes).toBe(800);
    await turn();
    expect(resumed).toBe(1);
  });

  it('lets one connection process only its share of a turn, then resumes it on the next', async () => {
    const { flow } = flowWith({ maxInputBytesPerTurn: 1000 });
    let resumed = 0;
    const gate = flow.gate(() => resumed++);
    expect(gate.admit(600)).toBe(true);
    expect(gate.admit(300)).toBe(true);
    expect(gate.admit(200)).toBe(false);
    await turn();
    expect(resumed).toBe(1);
    expect(gate.admit(200)).toBe(true);
    // A single message larger than the share still goes through at the start of a turn.
    await turn();
    expect(gate.admit(5000)).toBe(true);
  });

  it('finds a member slow when its pending output has not drained for the timeout, not before', async () => {
    const { flow } = flowWith({ slowReaderTimeoutMs: 60 });
    const stuck = new FakeOutput(flow);
    const draining = new FakeOutput(flow);
    stuck.set(100);
    draining.set(100_000);
    // The draining member takes a little every 20 ms, for three timeouts.
    for (let i = 1; i <= 9; i++) {
      await sleep(20);
      draining.pending = 100_000 - i * 1000;
    }
    await sleep(40);
    expect(stuck.timeouts).toHaveLength(1);
    expect(stuck.timeouts[0]).toBeGreaterThan(60);
    expect(draining.timeouts).toHaveLength(0);
  });

  it('derives its watermarks from the cap: a quarter of it, at most 1 MiB, the low one half of that', () => {
    expect(watermarksFor(8 * 1024 * 1024)).toEqual({
      highWaterBytes: 1024 * 1024,
      lowWaterBytes: 512 * 1024,
    });
    expect(watermarksFor(256 * 1024)).toEqual({ highWaterBytes: 64 * 1024, lowWaterBytes: 32 * 1024 });
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then one message per 1/rate seconds, and says how long to wait', () => {
    const bucket = new TokenBucket(10, 3);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(50)).toBe(50);
    expect(bucket.take(100)).toBe(0);
    // Saved up for a long time: never more than the burst.
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([0, 0, 0]);
    expect(bucket.take(10_000)).toBeGreaterThan(0);
  });

  it('refuses a rate or burst it cannot use', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
    expect(() => new TokenBucket(5, 0)).toThrow(RangeError);
  });
});

// --- over real sockets -------------------------------------------------------------------------------

let keys: RsaKeyPair[];
const harness = new ServerHarness('pw');
beforeAll(async () => {
  keys = await testKeys();
});
afterEach(() => harness.stop());

const start = (options: Partial<ServerOptions> = {}) => harness.start(options);
const member = (name: string, key: RsaKeyPair) => harness.member(name, key);

/** Waits until `count` chat lines have arrived (or the connection closed), whatever else came. */
async function chatLines(client: PeerConnection, count: number, timeoutMs: number): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs;
  const chat = () => client.received.filter((line) => line.type === 'message');
  while (chat().length < count && !client.isClosed && Date.now() < deadline) await sleep(20);
  return chat();
}

/** Lines of about 8 KB numbered from 0, sent as fast as the sender's socket takes them. */
function burst(sender: PeerConnection, count: number): void {
  const text = 'z'.repeat(8000);
  for (let i = 0; i < count; i += 100) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(count, i + 100); j++) {
      lines.push(JSON.stringify({ type: 'message', message: `${j}:${text}`, encrypted: false }));
    }
    sender.sendRaw(`${lines.join('\n')}\n`);
  }
}

function inOrder(chat: Received[], sender: string): boolean {
  return chat.every((line, i) => line.sender === sender && String(line.message).startsWith(`${i}:`));
}

describe('a burst far past the pending-output cap', () => {
  // About 16 MB: 64 times the cap below, and more than a stopped reader's kernel buffers take.
  const COUNT = 2000;
  const LIMITS = { maxPendingOutputBytes: 256 * 1024, slowReaderTimeoutMs: 400 };

  it('reaches every member that reads, in order, and cuts only the member that stopped, by the timeout', async () => {
    const logged: Record<string, unknown>[] = [];
    await start({
      limits: LIMITS,
      logger: createLogger('warn', { write: (line: string) => logged.push(JSON.parse(line)) }),
    });
    const carol = await member('carol', keys[2]!);
    const bob = await member('bob', keys[1]!);
    const alice = await member('alice', keys[0]!);
    carol.pause();
    bob.readAtMost(8_000_000); // slower than alice writes, and never stops
    burst(alice, COUNT);
    const [toBob, toAlice] = await Promise.all([
      chatLines(bob, COUNT, 60_000),
      chatLines(alice, COUNT, 60_000),
    ]);
    expect(toBob).toHaveLength(COUNT);
    expect(toAlice).toHaveLength(COUNT);
    expect(inOrder(toBob, 'alice') && inOrder(toAlice, 'alice')).toBe(true);
    expect(bob.isClosed || alice.isClosed).toBe(false);
    expect(harness.server.stats().slowReaderDisconnects).toEqual({ timeout: 1, cap: 0 });
    expect(harness.server.usernames()).toEqual(['bob', 'alice']);
    expect(bob.received.filter((line) => line.type === 'system').at(-1)).toEqual({
      type: 'system',
      message: notices.left('carol'),
    });
    expect(harness.server.stats().inputPauses).toBeGreaterThan(0);
    // The log line says who and which rule.
    expect(logged.filter((entry) => entry.msg === 'slow reader disconnected')).toEqual([
      expect.objectContaining({ username: 'carol', rule: 'timeout', timeoutMs: 400 }),
    ]);
  });

  it('cuts nobody when everyone reads, the sender included, however slower than the sender', async () => {
    await start({ limits: LIMITS });
    const bob = await member('bob', keys[1]!);
    const carol = await member('carol', keys[2]!);
    const alice = await member('alice', keys[0]!);
    // Carol reads at 8 MB/s: two seconds for the burst; the sender must wait for her.
    carol.readAtMost(8_000_000);
    burst(alice, COUNT);
    for (const reader of [alice, bob, carol]) {
      const chat = await chatLines(reader, COUNT, 60_000);
      expect(chat).toHaveLength(COUNT);
      expect(inOrder(chat, 'alice')).toBe(true);
      expect(reader.isClosed).toBe(false);
    }
    expect(harness.server.stats().slowReaderDisconnects).toEqual({ timeout: 0, cap: 0 });
    expect(harness.server.usernames()).toEqual(['bob', 'carol', 'alice']);
  });

  it('pauses all input while the output for everyone is over the total budget, and cuts nobody who reads', async () => {
    // Two stopped readers: each under the high watermark (1 MiB by default) but 2 MiB together.
    await start({ limits: { slowReaderTimeoutMs: 400 }, maxTotalOutputBytes: 2 * 1024 * 1024 });
    const stopped = [await member('s1', keys[2]!), await member('s2', keys[3]!)];
    const bob = await member('bob', keys[1]!);
    const alice = await member('alice', keys[0]!);
    for (const client of stopped) client.pause();
    burst(alice, COUNT);
    const chat = await chatLines(bob, COUNT, 60_000);
    expect(chat).toHaveLength(COUNT);
    expect(inOrder(chat, 'alice')).toBe(true);
    expect(harness.server.stats().outputBudgetReached).toBeGreaterThan(0);
    expect(harness.server.stats().slowReaderDisconnects).toEqual({ timeout: 2, cap: 0 });
    expect(harness.server.usernames()).toEqual(['bob', 'alice']);
  });
});

describe('flood control and key rotation (opt-in)', () => {
  it('paces a connection to its message rate: nothing is lost, the excess waits', async () => {
    await start({ maxMessagesPerSecond: 50, messageBurst: 5 });
    const alice = await member('alice', keys[0]!);
    const started = performance.now();
    alice.sendRaw(
      Array.from(
        { length: 30 },
        (_, i) => `${JSON.stringify({ type: 'message', message: `${i}`, encrypted: false })}\n`,
      ).join(''),
    );
    const chat = await chatLines(alice, 30, 10_000);
    expect(chat.map((line) => line.message)).toEqual(Array.from({ length: 30 }, (_, i) => `${i}`));
    // 25 messages beyond the burst at 50 a second cannot take less than half a second.
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(harness.server.stats().rateLimited).toBeGreaterThan(0);
  });

  it('refuses connections over the per-address limit with an auth_error, and counts them', async () => {
    await start({ maxConnectionsPerAddress: 2 });
    await member('alice', keys[0]!);
    const second = await harness.connect();
    const third = await harness.connect();
    await expect(third.next()).resolves.toEqual({
      type: 'auth_error',
      message: 'Too many connections from your address',
    });
    await third.closed();
    second.destroy();
    await sleep(50);
    await member('bob', keys[1]!); // a place is free again
    expect(harness.server.stats().handshakeFailures.address_limit).toBe(1);
  });

  it('gives the remaining members a new room key when a member leaves', async () => {
    await start({ rotateKeyOnLeave: true });
    const alice = await member('alice', keys[0]!);
    const bob = await member('bob', keys[1]!);
    const carol = await member('carol', keys[2]!);
    const firstKey = unwrapRoomKey(alice.received[1]!.encrypted_key, keys[0]!.privateKey);
    await alice.nextN(4); // bob's and carol's joins
    await bob.nextN(2);
    carol.end();
    const [toAlice, toBob] = [await alice.nextN(3), await bob.nextN(3)];
    expect(toAlice.slice(0, 2)).toEqual([
      { type: 'user_list', users: ['alice', 'bob'] },
      { type: 'system', message: notices.left('carol') },
    ]);
    expect(toAlice[2]!.type).toBe('key_exchange');
    const aliceKey = unwrapRoomKey(toAlice[2]!.encrypted_key, keys[0]!.privateKey);
    const bobKey = unwrapRoomKey(toBob[2]!.encrypted_key, keys[1]!.privateKey);
    expect(aliceKey).toBe(bobKey);
    expect(aliceKey).not.toBe(firstKey);
    expect(new Fernet(aliceKey).keyText).toBe(aliceKey);
    // Whoever joins next gets the new key.
    const dave = await member('dave', keys[3]!);
    expect(unwrapRoomKey(dave.received[1]!.encrypted_key, keys[3]!.privateKey)).toBe(aliceKey);
    expect(harness.server.stats().keyRotations).toBe(1);
  });
});
