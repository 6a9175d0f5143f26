import { describe, expect, it } from 'vitest';
import type { ReceivedLine } from '../../../conformance/support/received-line.ts';
import { type NameAsker, ScenarioNames } from '../../../conformance/support/scenario-names.ts';

function received(message: ReceivedLine['message']): ReceivedLine {
  return {
    order: 0,
    index: 0,
    turn: 0,
    atMs: 0,
    text: JSON.stringify(message),
    validUtf8: true,
    terminated: true,
    message,
  };
}

describe('ScenarioNames', () => {
  it('gives each label one username ending with the scenario tag', () => {
    const names = new ScenarioNames('r1w0.7', new Map());
    expect(names.nameOf('alice')).toBe('alice-r1w0.7');
    expect(names.nameOf('alice')).toBe(names.nameOf('alice'));
    expect(names.fill('{alice} has joined the chat')).toBe('alice-r1w0.7 has joined the chat');
  });

  it("takes a member's name from its last handshake when it asked for another", () => {
    const clients = new Map<string, NameAsker>([['bob', { requestedNames: ['bob-r1.1', 'robert-r1.1'] }]]);
    const names = new ScenarioNames('r1.1', clients);
    expect(names.memberName('bob')).toBe('robert-r1.1');
    expect(names.memberName('carol')).toBe('carol-r1.1');
  });

  it("tells another scenario's traffic from this one's", () => {
    const clients = new Map<string, NameAsker>([['bob', { requestedNames: ['😀 bob'] }]]);
    const names = new ScenarioNames('r1.2', clients);
    names.nameOf('alice');
    const second = names.extraName('second');
    const chat = (sender: string) => received({ type: 'message', sender, message: 'x', encrypted: false });
    const notice = (text: string) => received({ type: 'system', message: text });
    expect(names.isForeign(chat('alice-r1.2'))).toBe(false);
    expect(names.isForeign(chat('😀 bob'))).toBe(false);
    expect(names.isForeign(chat('alice-r1.3'))).toBe(true);
    expect(names.isForeign(notice(`${second} has joined the chat`))).toBe(false);
    expect(names.isForeign(notice('dave-r9.9 has left the chat'))).toBe(true);
    expect(names.isForeign(notice('Server is shutting down'))).toBe(false);
    expect(names.isForeign(received({ type: 'user_list', users: ['dave-r9.9'] }))).toBe(false);
  });
});
