/**
 * The burst against a relay that does what a room does (every chat line relayed to every member,
 * the sender's own included): every reading member counts the whole burst in order, without the
 * client keeping its lines; a relay that swaps two lines for one member is caught out of order.
 * Integration: a burst is 17 MiB, relayed to three members over loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { burst, burstBytes, type LoadRoom } from '../../../conformance/support/room-load.ts';
import { WireClient } from '../../../conformance/support/wire-client.ts';
import { WireLog } from '../../../conformance/support/wire-log.ts';
import { DEFAULT_LIMITS, Fernet, type Limits } from '../../../protocol/index.ts';
import { type Connection, type Listener, listen } from '../../../transport/index.ts';

const LIMITS: Limits = { ...DEFAULT_LIMITS, maxLineBytes: 65536, maxPendingOutputBytes: 65536 };
const SENDER = 'alice';

const listeners: Listener[] = [];
const clients: WireClient[] = [];
const relayConnections: Connection[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const connection of relayConnections.splice(0)) connection.destroy();
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

/**
 * A room of connections in the order they connect (the first one sends): each chat line from the
 * sender goes to everyone, with the sender's name. `swapFor`: the member (by position) that gets
 * the 2nd and 3rd lines the other way round.
 */
async function relay(swapFor?: number): Promise<Listener> {
  const members: Connection[] = [];
  let held: string | undefined;
  let relayed = 0;
  const listener = await listen(
    'tcp://127.0.0.1:0',
    { maxMessageBytes: LIMITS.maxLineBytes, handshakeTimeoutMs: 1000 },
    (connection) => {
      members.push(connection);
      relayConnections.push(connection);
      connection.on('message', (text: string) => {
        const { message } = JSON.parse(text) as { message: string };
        const line = `${JSON.stringify({ type: 'message', sender: SENDER, message, encrypted: true })}\n`;
        relayed += 1;
        members.forEach((member, position) => {
          if (position !== swapFor) member.send(line);
          else if (relayed === 2) held = line;
          else {
            member.send(line);
            if (held !== undefined) member.send(held);
            held = undefined;
          }
        });
      });
    },
  );
  listeners.push(listener);
  return listener;
}

async function roomOf(listener: Listener, labels: string[]): Promise<LoadRoom> {
  const key = new Fernet(Fernet.generateKey());
  const startedAt = performance.now();
  let order = 0;
  const readers = new Map<string, WireClient>();
  for (const label of labels) {
    const client = await WireClient.connect({
      endpoint: { transport: 'tcp', host: '127.0.0.1', port: listener.port, path: '' },
      connectOptions: {},
      label,
      username: label,
      serverPassword: 'secret',
      log: new WireLog(`transcript of ${label}`, startedAt),
      nextOrder: () => ++order,
      startedAt,
      connectTimeoutMs: 2000,
    });
    client.roomKey = key;
    clients.push(client);
    readers.set(label, client);
  }
  return {
    sender: { label: labels[0]!, client: readers.get(labels[0]!)!, name: SENDER },
    readers,
    someoneStopped: false,
    limits: LIMITS,
    timeoutMs: 5000,
  };
}

describe('burst', () => {
  it('counts every message of the burst at every member, in order, and keeps none of them', async () => {
    const room = await roomOf(await relay(), ['alice', 'bob', 'carol']);
    const report = await burst(room);
    expect(report.bytes).toBeGreaterThanOrEqual(burstBytes(LIMITS));
    expect(report.outOfOrder).toBeUndefined();
    expect(report.stalled).toBeUndefined();
    expect([...report.received.values()]).toEqual([report.count, report.count, report.count]);
    for (const client of room.readers.values()) {
      // Counted, not kept: the inbox holds none of the burst's lines.
      expect(client.lines).toEqual([]);
      // The transcript shows the last line, shortened as written, with what it was.
      const last = client.log.entries.at(-1)!;
      expect(last.note).toBe(`burst message ${report.count} of ${report.count}, in order`);
      expect(last.text.length).toBeLessThan(400);
      expect(last.text).toContain(`chars)`);
    }
  });

  it('reports a member that receives two messages the other way round, and keeps those lines', async () => {
    const room = await roomOf(await relay(2), ['alice', 'bob', 'carol']);
    const report = await burst(room);
    expect(report.outOfOrder).toBe('carol received "burst 000003…" where "burst 000002…" was due');
    expect(report.received.get('carol')).toBeLessThan(report.count);
    // The line out of its turn is left to the client, for the transcript and the checks.
    expect(room.readers.get('carol')!.lines.length).toBeGreaterThan(0);
  });
});
