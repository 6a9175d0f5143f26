/** Reading the room log's entries back, and ordering stream IDs as Redis does. */
import { describe, expect, it } from 'vitest';
import {
  chatHead,
  compareStreamIds,
  ownerNode,
  parseEntry,
} from '../../../reference-server/cluster/log-entry.ts';

describe('parseEntry', () => {
  it('reads joins, leaves and restored members', () => {
    expect(parseEntry(['seq', '7', 'type', 'join', 'name', 'alice', 'owner', 'a/x1/1'])).toEqual({
      kind: 'join',
      seq: 7,
      name: 'alice',
      owner: 'a/x1/1',
    });
    expect(parseEntry(['seq', '8', 'type', 'leave', 'name', 'alice', 'owner', 'a/x1/1'])?.kind).toBe('leave');
    expect(parseEntry(['seq', '9', 'type', 'present', 'name', 'bob', 'owner', 'b/y/2'])?.kind).toBe(
      'present',
    );
  });

  it('reads a chat back from its packed head, with its payload verbatim and any name', () => {
    const chat = {
      encrypted: true,
      sentAt: 1700000000123,
      publishId: 'y.5',
      owner: 'b/y/2',
      name: 'bo|b \u00e9',
    };
    const fields = ['seq', '3', 'c', chatHead(chat), 'm', 'gAAAA\u00e9"\n|'];
    expect(parseEntry(fields)).toEqual({ kind: 'chat', seq: 3, message: 'gAAAA\u00e9"\n|', ...chat });
    expect(parseEntry(['seq', '4', 'c', chatHead({ ...chat, encrypted: false }), 'm', ''])).toMatchObject({
      encrypted: false,
      message: '',
    });
    expect(parseEntry(['seq', '5', 'c', '1|2|3', 'm', 'x'])).toBeUndefined();
    expect(parseEntry(['seq', '5', 'c', '1|2|3|4|', 'm', 'x'])).toBeUndefined();
  });

  it('skips what this version does not know or cannot use', () => {
    expect(parseEntry(['seq', '1', 'type', 'kick', 'name', 'a', 'owner', 'a/x/1'])).toBeUndefined();
    expect(parseEntry(['seq', 'x', 'type', 'join', 'name', 'a', 'owner', 'a/x/1'])).toBeUndefined();
    expect(parseEntry(['seq', '1', 'type', 'join', 'owner', 'a/x/1'])).toBeUndefined();
    expect(parseEntry(['seq'])).toBeUndefined();
  });
});

describe('stream IDs and owners', () => {
  it('orders IDs by time, then by sequence, beyond 2^53', () => {
    expect(compareStreamIds('1-0', '1-1')).toBe(-1);
    expect(compareStreamIds('2-0', '10-0')).toBe(-1);
    expect(compareStreamIds('1700000000000-5', '1700000000000-5')).toBe(0);
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-0')).toBe(1);
    expect(compareStreamIds('0-0', '0')).toBe(0);
  });

  it('names the node of an owner', () => {
    expect(ownerNode('node-a/1f2e/3')).toBe('node-a');
  });
});
