/** What the publisher sends to Redis, and when: one script call per event-loop turn, in order. */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createClusterStats,
  createLatencyHistogram,
} from '../../../reference-server/cluster/cluster-metrics.ts';
import type { ClusterLink } from '../../../reference-server/cluster/link.ts';
import { Publisher } from '../../../reference-server/cluster/publisher.ts';
import { roomKeys } from '../../../reference-server/cluster/redis-keys.ts';

/** Records each script call; every call succeeds. */
function recordingLink() {
  const calls: { name: string; args: (string | number)[] }[] = [];
  const link = {
    run: (name: string, _keys: string[], args: (string | number)[]) => {
      calls.push({ name, args });
      return Promise.resolve(name === 'LEAVE' ? '1-0' : 1);
    },
  };
  return { calls, link: link as unknown as ClusterLink };
}

function publisher(link: ClusterLink) {
  return new Publisher({
    link,
    keys: roomKeys('r'),
    retention: 1000,
    maxUnconfirmedBytes: 1 << 20,
    instance: 'i',
    stats: createClusterStats(),
    latency: createLatencyHistogram(),
    onLeaveRefused: () => undefined,
  });
}

/** The payloads of a CHAT call: its arguments after the retention, every second one. */
const messages = (args: (string | number)[]) => args.slice(2).filter((_, i) => i % 2 === 0);

describe('Publisher', () => {
  it('sends the chats of one turn, read from several connections, in one script call', async () => {
    const { calls, link } = recordingLink();
    const chats = publisher(link);
    // Two connections' reads in one turn: each callback ends with its microtasks run.
    chats.chat('alice', 'a/i/1', 'one', false);
    await Promise.resolve();
    chats.chat('bob', 'a/i/2', 'two', false);
    await Promise.resolve();
    expect(calls).toHaveLength(0);
    await nextTurn();
    expect(calls.map((call) => call.name)).toEqual(['CHAT']);
    expect(messages(calls[0]!.args)).toEqual(['one', 'two']);
    expect(chats.pending).toBe(2);
  });

  it('keeps a leave between two chats in its place, each in its own call', async () => {
    const { calls, link } = recordingLink();
    const ops = publisher(link);
    ops.chat('alice', 'a/i/1', 'before', false);
    ops.leave('bob', 'a/i/2', 'a');
    ops.chat('alice', 'a/i/1', 'after', false);
    await nextTurn();
    expect(calls.map((call) => call.name)).toEqual(['CHAT', 'LEAVE', 'CHAT']);
    expect(messages(calls[0]!.args)).toEqual(['before']);
    expect(messages(calls[2]!.args)).toEqual(['after']);
  });

  it('sends what is queued at once when flushed (a join or a shutdown must come after it)', () => {
    const { calls, link } = recordingLink();
    const ops = publisher(link);
    ops.leave('bob', 'a/i/2', 'a');
    ops.flush();
    expect(calls.map((call) => call.name)).toEqual(['LEAVE']);
  });
});
