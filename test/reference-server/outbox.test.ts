/**
 * Coalesced output and the pending-output limit: unit tests with a fake socket, then a paused
 * reader over real sockets while a sender floods and two healthy members receive everything.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeerConnection } from '../../conformance/peer/index.ts';
import { notices, type RsaKeyPair } from '../../protocol/index.ts';
import { createStats, FlushQueue, Outbox } from '../../reference-server/index.ts';
import { ByteStreamConnection } from '../../transport/byte-stream.ts';
import { ServerHarness } from '../support/server-harness.ts';
import { testKeys } from '../support/test-keys.ts';

/** The fake socket as the server sees it: a byte-stream Connection. */
function connectionOver(socket: FakeSocket): ByteStreamConnection {
  return new ByteStreamConnection(socket as unknown as Socket, { transport: 'tcp', maxMessageBytes: 1024 });
}

/**
 * Just enough of a net.Socket: records each write and cork/uncork. Its peer never reads, so every
 * write stays in `writableLength` until a test sets it back (as if the kernel took it).
 */
class FakeSocket extends EventEmitter {
  writes: Buffer[] = [];
  remoteAddress = '127.0.0.1';
  remotePort = 1;
  setNoDelay(): void {}
  isPaused(): boolean {
    return false;
  }
  corks = 0;
  writableLength = 0;
  destroyed = false;
  writableEnded = false;
  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    this.writableLength += chunk.length;
    return true;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {}
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

function outboxWith(limit: number) {
  const socket = new FakeSocket();
  const stats = createStats();
  const outbox = new Outbox(connectionOver(socket), {
    flushQueue: new FlushQueue(),
    maxPendingBytes: limit,
    stats,
  });
  return { socket, stats, outbox };
}

describe('Outbox', () => {
  it('writes everything queued in one turn as one write, at the end of the turn', async () => {
    const { socket, outbox, stats } = outboxWith(1 << 20);
    const a = Buffer.from('a\n');
    const b = Buffer.from('bb\n');
    outbox.push(a);
    outbox.push(b);
    outbox.push(a);
    expect(socket.writes).toEqual([]);
    expect(outbox.pendingBytes).toBe(7);
    await turn();
    expect(socket.writes.map(String)).toEqual(['a\nbb\na\n']);
    expect(stats.deliveries).toBe(3);
    expect(stats.bytesSent).toBe(7);
    expect(outbox.pendingBytes).toBe(7); // now in the socket's buffer
    socket.writableLength = 0;
    expect(outbox.pendingBytes).toBe(0);
  });

  it('writes a single queued line as is (no copy)', async () => {
    const { socket, outbox } = outboxWith(1 << 20);
    const line = Buffer.from('only\n');
    outbox.push(line);
    await turn();
    expect(socket.writes[0]).toBe(line);
  });

  it('corks and writes each chunk when a turn queued a lot (no big copy)', async () => {
    const { socket, outbox } = outboxWith(1 << 24);
    const big = Buffer.alloc(40 * 1024, 0x61);
    outbox.push(big);
    outbox.push(big);
    await turn();
    expect(socket.corks).toBe(1);
    expect(socket.writes).toEqual([big, big]);
  });

  it('refuses a line that would take pending output past the limit, counting the socket buffer', () => {
    const { socket, outbox, stats } = outboxWith(100);
    expect(outbox.push(Buffer.alloc(10))).toBe(true);
    expect(outbox.push(Buffer.alloc(10))).toBe(true);
    expect(socket.writes).toEqual([]);
    // A queue of a quarter of the limit is written at once, not at the end of the turn.
    expect(outbox.push(Buffer.alloc(5))).toBe(true);
    expect(socket.writableLength).toBe(25);
    expect(outbox.push(Buffer.alloc(70))).toBe(true);
    expect(outbox.push(Buffer.alloc(6))).toBe(false);
    expect(stats.deliveries).toBe(4);
    expect(outbox.pendingBytes).toBe(95);
    socket.writableLength = 0; // the reader caught up
    expect(outbox.push(Buffer.alloc(6))).toBe(true);
  });

  it('always takes one line when nothing is pending, however long', () => {
    const { outbox, socket } = outboxWith(10);
    expect(outbox.push(Buffer.alloc(1000))).toBe(true);
    expect(socket.writableLength).toBe(1000);
    expect(outbox.push(Buffer.alloc(1))).toBe(false);
  });

  it('drops output for a destroyed socket', async () => {
    const { socket, outbox } = outboxWith(100);
    outbox.push(Buffer.from('x\n'));
    socket.destroyed = true;
    await turn();
    expect(socket.writes).toEqual([]);
  });

  it('flushes many outboxes with one scheduled callback', async () => {
    const queue = new FlushQueue();
    const stats = createStats();
    const sockets = Array.from({ length: 50 }, () => new FakeSocket());
    const outboxes = sockets.map(
      (socket) => new Outbox(connectionOver(socket), { flushQueue: queue, maxPendingBytes: 1 << 20, stats }),
    );
    const line = Buffer.from('shared\n');
    for (let i = 0; i < 3; i++) for (const outbox of outboxes) outbox.push(line);
    await turn();
    for (const socket of sockets) expect(socket.writes.map(String)).toEqual(['shared\nshared\nshared\n']);
  });
});

describe('slow readers over real sockets', () => {
  let keys: RsaKeyPair[];
  const harness = new ServerHarness('pw');
  beforeAll(async () => {
    keys = await testKeys();
  });
  afterEach(() => harness.stop());
  const member = (name: string, key: RsaKeyPair) => harness.member(name, key);

  it('disconnects a paused reader past the limit; two healthy members get every message and see it leave', async () => {
    const server = await harness.start({
      limits: { maxPendingOutputBytes: 64 * 1024, slowReaderTimeoutMs: 500 },
    });
    const sender = await member('sender', keys[0]!);
    const healthy1 = await member('healthy1', keys[1]!);
    const healthy2 = await member('healthy2', keys[2]!);
    const paused = await member('paused', keys[3]!);
    await sender.nextN(6);
    await healthy1.nextN(4);
    await healthy2.nextN(2);
    paused.pause();

    // About 16 MiB in total: far past what the paused reader's kernel buffers can absorb.
    const count = 4000;
    const text = 'z'.repeat(4000);
    const batch = 100;
    for (let sent = 0; sent < count; sent += batch) {
      const lines: string[] = [];
      for (let i = sent; i < sent + batch; i++) {
        lines.push(JSON.stringify({ type: 'message', message: `${i}:${text}`, encrypted: false }));
      }
      sender.sendRaw(`${lines.join('\n')}\n`);
      // Let the healthy members keep up, as real clients would, without ever reading `paused`.
      await healthy1.nextN(batch, 10_000);
      await healthy2.nextN(batch, 10_000);
    }
    const leave = [
      { type: 'user_list', users: ['sender', 'healthy1', 'healthy2'] },
      { type: 'system', message: notices.left('paused') },
    ];
    for (const healthy of [healthy1, healthy2]) {
      const chat = healthy.received.filter((message) => message.type === 'message');
      expect(chat).toHaveLength(count);
      expect(
        chat.every((message, i) => message.message.startsWith(`${i}:`) && message.sender === 'sender'),
      ).toBe(true);
      const others = healthy.received.filter((message) => message.type !== 'message');
      expect(others.slice(-2)).toEqual(leave);
    }
    expect(server.stats().slowReaderDisconnects).toEqual({ timeout: 1, cap: 0 });
    // It was cut off: once it reads again it finds part of the flood, then the end of the stream.
    paused.resume();
    await paused.closed(5000);
    expect(paused.received.filter((message) => message.type === 'message').length).toBeLessThan(count);
    expect(server.usernames()).toEqual(['sender', 'healthy1', 'healthy2']);
    const echoes = await sender.nextN(count + 2, 10_000);
    expect(echoes.filter((message) => message.type === 'message')).toHaveLength(count);
  });

  it('survives members that vanish (reset) in the middle of a broadcast', async () => {
    const server = await harness.start();
    const sender = await member('sender', keys[0]!);
    const watcher = await member('watcher', keys[1]!);
    const vanishing: PeerConnection[] = [];
    for (let i = 0; i < 6; i++) vanishing.push(await member(`v${i}`, keys[i % 4]!));
    await watcher.next(); // until every join is done, sync on the server
    const count = 300;
    const lines = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ type: 'message', message: `m${i}`, encrypted: false }),
    );
    sender.sendRaw(`${lines.slice(0, 150).join('\n')}\n`);
    for (const client of vanishing) client.reset();
    sender.sendRaw(`${lines.slice(150).join('\n')}\n`);
    const deadline = Date.now() + 5000;
    while (server.usernames().length > 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(server.usernames()).toEqual(['sender', 'watcher']);
    await new Promise((r) => setTimeout(r, 100));
    const chat = watcher.received.filter((message) => message.type === 'message');
    expect(chat.map((message) => message.message)).toEqual(lines.map((_, i) => `m${i}`));
    const lefts = watcher.received.filter(
      (m) => m.type === 'system' && String(m.message).endsWith('has left the chat'),
    );
    expect(lefts).toHaveLength(6);
    // Still serving.
    sender.send({ type: 'message', message: 'after', encrypted: false });
    await expect(watcher.nextN(watcher.unread().length + 1).then((all) => all.at(-1))).resolves.toMatchObject(
      {
        message: 'after',
      },
    );
  });
});
