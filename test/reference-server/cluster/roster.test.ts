/** The cluster-wide member list: join order, and leaves only by the owner that holds the name. */
import { describe, expect, it } from 'vitest';
import { Roster } from '../../../reference-server/cluster/roster.ts';

describe('Roster', () => {
  it('keeps join order and ignores a leave by an owner that does not hold the name', () => {
    const roster = new Roster();
    roster.join('alice', 'a/1/1');
    roster.join('bob', 'b/1/1');
    expect(roster.names()).toEqual(['alice', 'bob']);
    expect(roster.leave('alice', 'b/1/9')).toBe(false);
    expect(roster.leave('alice', 'a/1/1')).toBe(true);
    expect(roster.leave('alice', 'a/1/1')).toBe(false);
    roster.join('alice', 'b/1/2');
    expect(roster.names()).toEqual(['bob', 'alice']);
    expect(roster.ownerOf('alice')).toBe('b/1/2');
  });

  it('starts over from a snapshot', () => {
    const roster = new Roster();
    roster.join('zed', 'a/1/1');
    roster.replace(['carol', 'dave'], ['a/1/2', 'b/2/1']);
    expect(roster.names()).toEqual(['carol', 'dave']);
    expect(roster.has('zed')).toBe(false);
    expect(roster.size).toBe(2);
  });
});
