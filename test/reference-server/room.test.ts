/**
 * The room with fake members (no sockets): join and leave sequences, relay order, one shared
 * Buffer per broadcast, and slow readers evicted only after the loop.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Fernet, notices, type RsaKeyPair, unwrapRoomKey } from '../../protocol/index.ts';
import { createStats, Room, type RoomMember } from '../../reference-server/index.ts';
import { testKeys } from '../support/test-keys.ts';

let keys: RsaKeyPair[];
beforeAll(async () => {
  keys = await testKeys();
});

/** Records every Buffer it is given, in a log shared by all members so order across them is visible. */
class FakeMember implements RoomMember {
  readonly lines: Buffer[] = [];
  acceptsMore = true;
  evictions = 0;
  constructor(
    readonly username: string,
    readonly journal: string[],
    readonly room?: Room,
  ) {}
  deliver(line: Buffer): boolean {
    if (!this.acceptsMore) {
      this.journal.push(`${this.username} refused`);
      return false;
    }
    this.lines.push(line);
    this.journal.push(`${this.username} <- ${line.toString('utf8').trimEnd()}`);
    return true;
  }
  evictSlowReader(): void {
    this.evictions++;
    this.journal.push(`${this.username} evicted`);
    this.room?.leave(this);
  }
  messages(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line.toString('utf8')));
  }
}

function setup(roomKey?: string, options: { keepPublicKeys?: boolean } = {}) {
  const journal: string[] = [];
  const stats = createStats();
  const room = new Room(roomKey === undefined ? { stats, ...options } : { stats, roomKey, ...options });
  const add = (name: string, key = keys[0]!) => {
    const member = new FakeMember(name, journal, room);
    expect(room.join(member, key.publicKey)).toBe(true);
    return member;
  };
  return { journal, stats, room, add };
}

describe('Room', () => {
  it('sends the join sequence, with the room key wrapped for the joiner', () => {
    const roomKey = Fernet.generateKey();
    const { room, add } = setup(roomKey);
    const alice = add('alice', keys[0]);
    const bob = add('bob', keys[1]);
    const [welcome, keyExchange, secured, list] = bob.messages();
    expect(welcome).toEqual({ type: 'system', message: notices.welcome('bob') });
    expect(unwrapRoomKey(String(keyExchange?.encrypted_key), keys[1]!.privateKey)).toBe(roomKey);
    expect(secured).toEqual({ type: 'system', message: notices.secured });
    expect(list).toEqual({ type: 'user_list', users: ['alice', 'bob'] });
    expect(alice.messages().slice(4)).toEqual([
      { type: 'user_list', users: ['alice', 'bob'] },
      { type: 'system', message: notices.joined('bob') },
    ]);
    expect(room.usernames).toEqual(['alice', 'bob']);
  });

  it('refuses a taken name without changing anything', () => {
    const { room, add, journal } = setup();
    add('alice');
    const before = journal.length;
    expect(room.join(new FakeMember('alice', journal), keys[1]!.publicKey)).toBe(false);
    expect(journal.length).toBe(before);
    expect(room.size).toBe(1);
  });

  it('relays one Buffer, the same instance, to every other member in join order, then echoes', () => {
    const { add, room, journal, stats } = setup();
    const alice = add('alice');
    const bob = add('bob');
    const carol = add('carol');
    journal.length = 0;
    room.relay(bob, 'payload', true);
    expect(journal.map((entry) => entry.split(' ')[0])).toEqual(['alice', 'carol', 'bob']);
    const sent = alice.lines.at(-1)!;
    expect(carol.lines.at(-1)).toBe(sent);
    expect(bob.lines.at(-1)).toBe(sent);
    expect(JSON.parse(sent.toString())).toEqual({
      type: 'message',
      sender: 'bob',
      message: 'payload',
      encrypted: true,
    });
    expect(stats.messagesRelayed).toBe(1);
  });

  it('encodes any name and payload as valid JSON, payload verbatim', () => {
    const { add, room } = setup();
    const odd = add('"quote" \\ 😀 \u2028');
    const other = add('other');
    const payload = '{"type":"system"}\n\u0000\ud800';
    room.relay(odd, payload, false);
    const received = JSON.parse(other.lines.at(-1)!.toString('utf8'));
    expect(received).toEqual({
      type: 'message',
      sender: '"quote" \\ 😀 \u2028',
      message: payload,
      encrypted: false,
    });
  });

  it('ignores relay from a non-member', () => {
    const { add, room, journal } = setup();
    add('alice');
    const before = journal.length;
    room.relay(new FakeMember('ghost', journal), 'x', false);
    expect(journal.length).toBe(before);
  });

  it('sends user_list then left to the remaining members, and frees the name', () => {
    const { add, room } = setup();
    const alice = add('alice');
    const bob = add('bob');
    const carol = add('carol');
    expect(room.leave(bob)).toBe(true);
    expect(room.leave(bob)).toBe(false);
    for (const member of [alice, carol]) {
      expect(member.messages().slice(-2)).toEqual([
        { type: 'user_list', users: ['alice', 'carol'] },
        { type: 'system', message: notices.left('bob') },
      ]);
    }
    expect(room.has('bob')).toBe(false);
    const again = add('bob');
    expect(again.messages()[3]).toEqual({ type: 'user_list', users: ['alice', 'carol', 'bob'] });
  });

  it('evicts a slow reader after the broadcast loop, so everyone else got the line first', () => {
    const { add, room, journal } = setup();
    const alice = add('alice');
    const slow = add('slow');
    const carol = add('carol');
    slow.acceptsMore = false;
    journal.length = 0;
    room.relay(alice, 'hello', false);
    expect(journal).toEqual([
      expect.stringMatching(/^slow refused/),
      expect.stringMatching(/^carol <- .*hello/),
      expect.stringMatching(/^alice <- .*hello/),
      'slow evicted',
      expect.stringMatching(/^alice <- .*user_list/),
      expect.stringMatching(/^alice <- .*slow has left/),
      expect.stringMatching(/^carol <- .*user_list/),
      expect.stringMatching(/^carol <- .*slow has left/),
    ]);
    expect(slow.evictions).toBe(1);
    expect(room.usernames).toEqual(['alice', 'carol']);
    expect(carol.messages().at(-3)).toMatchObject({ message: 'hello' });
  });

  it('handles several slow readers in one broadcast, and one slowed by a leave notice', () => {
    const { add, room } = setup();
    const alice = add('alice');
    const slow1 = add('slow1');
    const slow2 = add('slow2');
    const bob = add('bob');
    slow1.acceptsMore = false;
    slow2.acceptsMore = false;
    room.relay(alice, 'x', false);
    expect(room.usernames).toEqual(['alice', 'bob']);
    expect(slow1.evictions + slow2.evictions).toBe(2);
    const notices_ = bob.messages().filter((message) => message.type === 'system');
    expect(notices_.slice(-2)).toEqual([
      { type: 'system', message: notices.left('slow1') },
      { type: 'system', message: notices.left('slow2') },
    ]);
  });

  it('after close, members leave silently', () => {
    const { add, room } = setup();
    const alice = add('alice');
    const bob = add('bob');
    const count = alice.lines.length;
    room.close();
    room.leave(bob);
    expect(alice.lines.length).toBe(count);
    expect(room.usernames).toEqual(['alice']);
  });

  it('broadcast sends one line to all but the excepted member', () => {
    const { add, room } = setup();
    const alice = add('alice');
    const bob = add('bob');
    const line = Buffer.from('{"type":"system","message":"hi"}\n');
    room.broadcast(line, alice);
    expect(bob.lines.at(-1)).toBe(line);
    expect(alice.lines.at(-1)).not.toBe(line);
  });

  it('announce: one system notice to every member, in join order', () => {
    const { add, room, journal } = setup();
    add('alice');
    add('bob');
    journal.length = 0;
    expect(room.announce('Maintenance at noon')).toBe(2);
    expect(journal).toEqual([
      'alice <- {"type":"system","message":"Maintenance at noon"}',
      'bob <- {"type":"system","message":"Maintenance at noon"}',
    ]);
  });

  it('rotateKey: a new key to every member whose public key it kept, and members joining later get it', () => {
    const { add, room, stats } = setup(undefined, { keepPublicKeys: true });
    const alice = add('alice', keys[0]);
    const bob = add('bob', keys[1]);
    const before = room.roomKey;
    expect(room.rotateKey()).toBe(2);
    expect(room.roomKey).not.toBe(before);
    expect(stats.keyRotations).toBe(1);
    for (const [member, key] of [
      [alice, keys[0]!],
      [bob, keys[1]!],
    ] as const) {
      const last = member.messages().at(-1)!;
      expect(last.type).toBe('key_exchange');
      expect(unwrapRoomKey(String(last.encrypted_key), key.privateKey)).toBe(room.roomKey);
    }
    const carol = add('carol', keys[2]);
    expect(unwrapRoomKey(String(carol.messages()[1]!.encrypted_key), keys[2]!.privateKey)).toBe(room.roomKey);
  });

  it('rotateKey is refused by a room that keeps no public keys (v1 needs a key only at join)', () => {
    const { add, room } = setup();
    add('alice');
    const key = room.roomKey;
    expect(() => room.rotateKey()).toThrow(/keeps no public keys/);
    expect(room.roomKey).toBe(key);
  });

  it('member: the member of that name, if any', () => {
    const { add, room } = setup();
    const alice = add('alice');
    expect(room.member('alice')).toBe(alice);
    expect(room.member('bob')).toBeUndefined();
  });
});
