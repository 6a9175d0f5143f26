/** The model judges hand-made traces: a correct room passes, each broken rule is named. */
import { describe, expect, it } from 'vitest';
import { checkTrace, ROOM_ORDER } from '../../../conformance/fuzz/checker.ts';
import type { ConnectionTrace, Trace } from '../../../conformance/fuzz/trace.ts';

const TAG = '-t1';
const key = { type: 'key_exchange', encrypted_key: 'x' };
const secured = {
  type: 'system',
  message: 'Secure connection established! You can now send encrypted messages.',
};
const payload = (connection: number, seq: number) =>
  Buffer.from(`fuzz${TAG} c${connection} #${seq}`).toString('base64');

/** A connection that joined as `name` at time 1 and received `lines` (JSON objects) from time 2 on. */
function connection(
  id: number,
  name: string,
  lines: object[],
  extra: Partial<ConnectionTrace> = {},
): ConnectionTrace {
  const joined = [
    { type: 'system', message: `Welcome ${name}! Establishing secure connection...` },
    key,
    secured,
  ];
  return {
    id,
    client: id,
    handshakes: [{ name, at: 0 }],
    chats: [],
    received: [...joined, ...lines].map((message, index) => ({
      at: 1 + index,
      line: JSON.stringify(message),
      message: message as Record<string, unknown>,
    })),
    closedByClientAt: undefined,
    closedAt: undefined,
    ...extra,
  };
}

const chat = (sender: string, from: number, seq: number) => ({
  type: 'message',
  sender,
  message: payload(from, seq),
  encrypted: true,
});
const list = (...users: string[]) => ({ type: 'user_list', users: users.map((user) => `${user}${TAG}`) });
const joinedNotice = (name: string) => ({ type: 'system', message: `${name}${TAG} has joined the chat` });

function trace(...connections: ConnectionTrace[]): Trace {
  return { tag: TAG, connections, quiet: true };
}

const ann = `ann${TAG}`;
const bob = `bob${TAG}`;

describe('checkTrace', () => {
  it('passes a room that behaves', () => {
    const a = connection(1, ann, [list('ann'), list('ann', 'bob'), joinedNotice('bob'), chat(bob, 2, 1)]);
    const b = connection(2, bob, [list('ann', 'bob'), chat(bob, 2, 1)], {
      chats: [{ payload: payload(2, 1), seq: 1, at: 50 }],
    });
    expect(checkTrace(trace(a, b))).toEqual([]);
  });

  it('names a stale user list once the room is quiet (ECP-UL-01)', () => {
    const a = connection(1, ann, [list('ann')]);
    const b = connection(2, bob, [list('bob')]);
    expect(checkTrace(trace(a, b)).map((item) => item.requirement)).toEqual(['ECP-UL-01', 'ECP-UL-01']);
  });

  it('names a lost chat (ECP-CHAT-01) and two senders seen in two orders (room order)', () => {
    const sent = (id: number) => ({ chats: [{ payload: payload(id, 1), seq: 1, at: 50 }] });
    const a = connection(1, ann, [list('ann', 'bob'), chat(ann, 1, 1), chat(bob, 2, 1)], sent(1));
    const b = connection(2, bob, [list('ann', 'bob'), chat(bob, 2, 1), chat(ann, 1, 1)], sent(2));
    expect(checkTrace(trace(a, b)).map((item) => item.requirement)).toEqual([ROOM_ORDER]);
    const lost = connection(2, bob, [list('ann', 'bob'), chat(bob, 2, 1)], sent(2));
    expect(checkTrace(trace(a, lost)).map((item) => item.requirement)).toEqual(['ECP-CHAT-01']);
  });

  it('names a room message that reaches a connection before its join sequence (ECP-HS-03)', () => {
    const early = connection(1, ann, [list('ann')]);
    early.received.unshift({ at: 0.5, line: '', message: chat(bob, 9, 1) });
    expect(checkTrace(trace(early)).map((item) => item.requirement)).toContain('ECP-HS-03');
  });
});
