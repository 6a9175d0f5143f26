/** What --cluster and its companions accept, and what the logs show of the URL. */
import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../../../reference-server/cluster/link.ts';
import { redactUrl, resolveClusterOptions } from '../../../reference-server/cluster/options.ts';
import { roomKeys } from '../../../reference-server/cluster/redis-keys.ts';

describe('resolveClusterOptions', () => {
  it('fills in the defaults', () => {
    const options = resolveClusterOptions({ url: 'redis://127.0.0.1:6379' });
    expect(options.room).toBe('ecp');
    expect(options.retention).toBe(10_000);
    expect(options.nodeId).toMatch(/^[A-Za-z0-9_.-]+-\d+$/);
  });

  it('takes redis:// and rediss:// with credentials, nothing else', () => {
    expect(resolveClusterOptions({ url: 'rediss://user:pw@redis.internal:6380' }).url).toBe(
      'rediss://user:pw@redis.internal:6380',
    );
    expect(() => resolveClusterOptions({ url: 'http://127.0.0.1:6379' })).toThrow(
      /redis:\/\/ or rediss:\/\//,
    );
    expect(() => resolveClusterOptions({ url: '127.0.0.1:6379' })).toThrow(/redis:\/\/|not a URL/);
  });

  it('refuses names that do not fit a Redis key, and a retention Redis would not keep', () => {
    expect(() => resolveClusterOptions({ url: 'redis://h:1', room: 'a b' })).toThrow(/room name/);
    expect(() => resolveClusterOptions({ url: 'redis://h:1', nodeId: 'a/b' })).toThrow(/node id/);
    expect(() => resolveClusterOptions({ url: 'redis://h:1', retention: 10 })).toThrow(/retention/);
  });
});

describe('around the link', () => {
  it('never logs the password', () => {
    expect(redactUrl('redis://user:s3cret@h:6379/0')).toBe('redis://user:***@h:6379/0');
    expect(redactUrl('redis://h:6379')).toBe('redis://h:6379');
  });

  it('backs off from about 50 ms to about 2 s', () => {
    expect(reconnectDelayMs(0)).toBeGreaterThanOrEqual(37);
    expect(reconnectDelayMs(0)).toBeLessThanOrEqual(63);
    for (let attempt = 5; attempt < 50; attempt++)
      expect(reconnectDelayMs(attempt)).toBeLessThanOrEqual(2500);
    expect(reconnectDelayMs(100)).toBeGreaterThanOrEqual(1500);
  });

  it('keeps every key of a room in one hash slot', () => {
    const keys = roomKeys('lobby');
    for (const key of [keys.log, keys.seq, keys.roomKey, keys.owners, keys.lease('a'), keys.names('b')]) {
      expect(key.startsWith('ecp:{lobby}:')).toBe(true);
    }
  });
});
