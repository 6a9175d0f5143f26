/**
 * The bench's own accounting, checked against scripted fake servers that drop, duplicate,
 * reorder and delay on purpose. Tiny loads; no performance is asserted.
 */
import { describe, expect, it } from 'vitest';
import { type BenchConfig, runBench } from '../../bench/index.ts';
import { type Delivery, type RoomMember, startV1Room } from '../../conformance/peer/index.ts';
import type { EmbeddedStarter } from '../../server-under-test/index.ts';

const PASSWORD = 'bench-test';

type DeliveryAction = 'send' | 'drop' | 'duplicate' | 'swap' | { delayMs: number };

interface DeliveryContext {
  /** The recipient's place in join order (0 = first to join). */
  recipient: number;
  /** How many chat lines this recipient was sent before this one. */
  nth: number;
  senderName: string;
}

/**
 * A v1 room whose relay `script` misbehaves on purpose, per delivery: drop it, duplicate it, swap
 * it with the next one to the same recipient, or delay it. It counts what it did, so a test can
 * check that the bench reports exactly that.
 */
function misbehavingRoom(
  password: string,
  script: (context: DeliveryContext) => DeliveryAction = () => 'send',
) {
  const counts = { relayed: 0, dropped: 0, duplicated: 0, swapped: 0, delayed: 0 };
  const sentTo = new Map<RoomMember, number>();
  /** A line held back by 'swap', per recipient, until the next one overtakes it. */
  const held = new Map<RoomMember, { text: string; timer: NodeJS.Timeout }>();
  const deliver = ({ sender, recipient, text }: Delivery): void => {
    const nth = sentTo.get(recipient) ?? 0;
    sentTo.set(recipient, nth + 1);
    const action = script({ recipient: recipient.order, nth, senderName: sender.name });
    counts.relayed++;
    const send = (line: string) => recipient.connection.sendLine(line);
    const overtaken = held.get(recipient);
    if (overtaken !== undefined) {
      clearTimeout(overtaken.timer);
      held.delete(recipient);
      counts.swapped++;
    }
    if (action === 'drop') {
      counts.dropped++;
    } else if (action === 'duplicate') {
      counts.duplicated++;
      send(text);
      send(text);
    } else if (action === 'swap' && overtaken === undefined) {
      // Released as is if nothing overtakes it soon (then it was not reordered).
      const timer = setTimeout(() => {
        held.delete(recipient);
        send(text);
      }, 100);
      held.set(recipient, { text, timer });
    } else if (typeof action === 'object') {
      counts.delayed++;
      setTimeout(() => send(text), action.delayMs);
    } else {
      send(text);
    }
    if (overtaken !== undefined) send(overtaken.text);
  };
  const starter: EmbeddedStarter = async ({ endpoint, tls }) => {
    const room = await startV1Room({ password, encode: JSON.stringify, deliver, listen: endpoint, tls });
    return { port: room.port, close: () => room.peer.close() };
  };
  return { counts, starter };
}

/** Warm-up 0: every message sent is in the window, so the fake server's counts are the bench's. */
const tiny: Partial<BenchConfig> = {
  clients: 4,
  senders: 2,
  rate: 200,
  durationSeconds: 1,
  warmupSeconds: 0,
  drainSeconds: 2,
  workers: 2,
  keyPoolSize: 1,
  verify: true,
};

async function benchAgainst(
  script: (context: DeliveryContext) => DeliveryAction,
  config: Partial<BenchConfig> = {},
) {
  const fake = misbehavingRoom(PASSWORD, script);
  const report = await runBench(
    { kind: 'embedded', password: PASSWORD, start: fake.starter, label: 'fake server' },
    { ...tiny, ...config },
  );
  const run = report.runs[0]!;
  return { fake, report, run };
}

describe('ecp bench accounting', () => {
  it('counts every delivery of a faithful server, echoes included, and verifies them', async () => {
    const { run, fake, report } = await benchAgainst(() => 'send');
    expect(report.schema).toBe('ecp-bench/1');
    expect(run.publishes.published).toBe(200);
    expect(run.deliveries.expected).toBe(800);
    expect(run.deliveries.received).toBe(800);
    expect(fake.counts.relayed).toBe(800);
    expect(run.deliveries).toMatchObject({
      lost: 0,
      duplicated: 0,
      reordered: 0,
      deliveryRatio: 1,
      unrecognised: 0,
    });
    expect(run.integrity).toMatchObject({ verified: 800, failures: 0 });
    expect(run.latency.perDelivery.count).toBe(800);
    expect(run.latency.toLastRecipient).toMatchObject({ count: 200, incompleteMessages: 0 });
    expect(run.connect).toMatchObject({ clients: 4, keysAgree: true, keysUnwrapped: 4 });
    expect(report.summary.lost.median).toBe(0);
  });

  it('reports exactly the deliveries a server dropped', async () => {
    const { run, fake } = await benchAgainst(({ recipient, nth }) =>
      recipient === 2 && nth % 7 === 3 ? 'drop' : 'send',
    );
    expect(fake.counts.dropped).toBeGreaterThan(0);
    expect(run.deliveries.lost).toBe(fake.counts.dropped);
    expect(run.deliveries.received).toBe(800 - fake.counts.dropped);
    expect(run.latency.toLastRecipient.incompleteMessages).toBe(fake.counts.dropped);
    expect(run.deliveries).toMatchObject({ duplicated: 0, reordered: 0 });
  });

  it('reports exactly the deliveries a server duplicated', async () => {
    const { run, fake } = await benchAgainst(({ recipient, nth }) =>
      recipient === 1 && nth % 5 === 0 ? 'duplicate' : 'send',
    );
    expect(fake.counts.duplicated).toBeGreaterThan(0);
    expect(run.deliveries.duplicated).toBe(fake.counts.duplicated);
    expect(run.deliveries).toMatchObject({ lost: 0, reordered: 0, received: 800 });
  });

  it('reports exactly the deliveries a server reordered', async () => {
    // One sender, so every swap of two consecutive lines puts one sequence number backwards.
    const { run, fake } = await benchAgainst(
      ({ recipient, nth }) => (recipient === 3 && nth % 10 === 4 ? 'swap' : 'send'),
      {
        senders: 1,
      },
    );
    expect(fake.counts.swapped).toBeGreaterThan(0);
    expect(run.deliveries.reordered).toBe(fake.counts.swapped);
    expect(run.deliveries).toMatchObject({ lost: 0, duplicated: 0, received: 800 });
  });

  it('shows a delay on one recipient in the latencies, to the last recipient above all', async () => {
    const { run, fake } = await benchAgainst(({ recipient }) =>
      recipient === 0 ? { delayMs: 150 } : 'send',
    );
    expect(fake.counts.delayed).toBe(200);
    expect(run.deliveries).toMatchObject({ lost: 0, received: 800 });
    // A quarter of the deliveries waited 150 ms, and every message's last recipient is the slow one.
    expect(run.latency.perDelivery.p90Ms).toBeGreaterThanOrEqual(150);
    expect(run.latency.perDelivery.p50Ms).toBeLessThan(150);
    expect(run.latency.toLastRecipient.p50Ms).toBeGreaterThanOrEqual(150);
  });

  it('runs closed loop: each sender keeps its messages in flight until their echoes return', async () => {
    const { run } = await benchAgainst(() => 'send', {
      rate: 0,
      inFlight: 4,
      verify: false,
      sampleEvery: 10,
    });
    expect(run.mode).toBe('closed-loop');
    expect(run.publishes.published).toBeGreaterThan(0);
    expect(run.deliveries.expected).toBe(run.publishes.published * 4);
    expect(run.deliveries.lost).toBe(0);
    expect(run.integrity.failures).toBe(0);
    expect(run.integrity.verified).toBeGreaterThan(0);
  });

  it('stops with a clear error when the server refuses the password', async () => {
    const fake = misbehavingRoom('another password');
    await expect(
      runBench(
        { kind: 'embedded', password: PASSWORD, start: fake.starter },
        { ...tiny, durationSeconds: 1 },
      ),
    ).rejects.toThrow(/auth_error: Invalid server password/);
  });
});
