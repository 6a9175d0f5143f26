import { describe, expect, it } from 'vitest';
import { chatTextOf, classifyLine, type ReceivedLine } from '../../../conformance/support/received-line.ts';

function classified(text: string): ReceivedLine {
  const line: ReceivedLine = {
    order: 0,
    index: 0,
    turn: 0,
    atMs: 0,
    text,
    validUtf8: true,
    terminated: true,
  };
  classifyLine(line);
  return line;
}

describe('classifyLine', () => {
  it('reads a valid v1 server message', () => {
    const line = classified('{"type":"message","sender":"a","message":"hi","encrypted":false}');
    expect(line.message?.type).toBe('message');
    expect(line.problem).toBeUndefined();
    expect(chatTextOf(line)).toBe('hi');
  });

  it('says why a line is not a v1 message', () => {
    expect(classified('  ').problem).toBe('blank line');
    expect(classified('{nope').problem).toBe('not JSON');
    const unknown = classified('{"type":"mystery"}');
    expect(unknown.json).toEqual({ type: 'mystery' });
    expect(unknown.message).toBeUndefined();
    expect(unknown.problem).toBeTruthy();
  });

  it('gives the text of an encrypted chat message only once decrypted', () => {
    const line = classified('{"type":"message","sender":"a","message":"gAAAA","encrypted":true}');
    expect(chatTextOf(line)).toBeUndefined();
    line.decrypted = 'hello';
    expect(chatTextOf(line)).toBe('hello');
  });
});
