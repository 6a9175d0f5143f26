import { describe, expect, it } from 'vitest';
import { readShownLine } from '../../../conformance/client-support/driver-contract.ts';

describe('readShownLine', () => {
  it('reads a chat message, ignoring other fields', () => {
    expect(
      readShownLine('{"event":"message","sender":"bob","text":"hi","encrypted":true,"own":false}'),
    ).toEqual({
      kind: 'chat',
      sender: 'bob',
      text: 'hi',
      encrypted: true,
    });
  });

  it('reads an undecryptable message, and ignores objects without a sender', () => {
    expect(readShownLine('{"sender":"bob","undecryptable":true,"text":null}')).toEqual({
      kind: 'undecryptable',
      sender: 'bob',
    });
    expect(readShownLine('{"event":"joined","users":["alice"]}')).toEqual({ kind: 'other' });
  });

  it('names the rule a line breaks', () => {
    expect(readShownLine('Welcome!')).toMatchObject({ kind: 'broken', rule: 'C2' });
    expect(readShownLine('["bob","hi"]')).toMatchObject({ kind: 'broken', rule: 'C2' });
    expect(readShownLine('{"sender":7,"text":"hi","encrypted":true}')).toMatchObject({ rule: 'C3' });
    expect(readShownLine('{"sender":"bob","text":"hi","encrypted":"yes"}')).toMatchObject({ rule: 'C3' });
    expect(readShownLine('{"sender":"bob","text":null,"encrypted":true}')).toMatchObject({ rule: 'C4' });
  });
});
