import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage, parseServerMessage } from '../../protocol/index.ts';
import { chatPrefix, encodeChatLine, encodeLine } from '../../reference-server/line-encoder.ts';

const isAscii = (buffer: Buffer) => buffer.every((byte) => byte < 0x80);

describe('line encoder', () => {
  it('escapes a non-ASCII sender as the prototype does, surrogate pairs as two escapes', () => {
    expect(chatPrefix('José 😀')).toBe('{"type":"message","sender":"Jos\\u00e9 \\ud83d\\ude00","message":');
  });

  it('writes a relayed chat line with the fields of encodeMessage, ASCII only, for any name and payload', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.boolean(),
        (sender, message, encrypted) => {
          const line = encodeChatLine(chatPrefix(sender), message, encrypted);
          expect(isAscii(line)).toBe(true);
          expect(line.at(-1)).toBe(0x0a);
          expect(line.subarray(0, -1).includes(0x0a)).toBe(false);
          const text = line.toString('latin1');
          expect(JSON.parse(text)).toEqual(
            JSON.parse(encodeMessage({ type: 'message', sender, message, encrypted })),
          );
          const parsed = parseServerMessage(text.trimEnd());
          expect(parsed.ok).toBe(true);
        },
      ),
    );
  });

  it('encodes every other message the same way', () => {
    const line = encodeLine({ type: 'user_list', users: ['Zoë', '李', '😀'] });
    expect(isAscii(line)).toBe(true);
    expect(JSON.parse(line.toString('latin1'))).toEqual({ type: 'user_list', users: ['Zoë', '李', '😀'] });
  });
});
