import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_MAX_LINE_BYTES, isValidUsername } from '../../protocol/index.ts';

describe('DEFAULT_LIMITS', () => {
  it('holds the recommended values and cannot be changed', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxLineBytes: 1024 * 1024,
      handshakeTimeoutMs: 10_000,
      maxPendingOutputBytes: 8 * 1024 * 1024,
      slowReaderTimeoutMs: 5_000,
      maxConnections: 10_000,
      maxUsernameLength: 32,
    });
    expect(DEFAULT_LIMITS.maxLineBytes).toBe(DEFAULT_MAX_LINE_BYTES);
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });
});

describe('isValidUsername', () => {
  it('accepts 1 to 32 characters', () => {
    expect(isValidUsername('a')).toBe(true);
    expect(isValidUsername('a'.repeat(32))).toBe(true);
  });

  it('refuses 0 and 33 characters', () => {
    expect(isValidUsername('')).toBe(false);
    expect(isValidUsername('a'.repeat(33))).toBe(false);
  });

  it('counts code points, not UTF-16 units or bytes', () => {
    expect('😀'.repeat(32)).toHaveLength(64);
    expect(isValidUsername('😀'.repeat(32))).toBe(true);
    expect(isValidUsername('😀'.repeat(33))).toBe(false);
    expect(isValidUsername('é'.repeat(32))).toBe(true); // 64 bytes of UTF-8
    expect(isValidUsername(`${'a'.repeat(31)}😀`)).toBe(true);
    expect(isValidUsername(`${'a'.repeat(32)}😀`)).toBe(false);
  });

  it('honours a different maximum', () => {
    expect(isValidUsername('abc', 3)).toBe(true);
    expect(isValidUsername('abcd', 3)).toBe(false);
    expect(isValidUsername('a'.repeat(40), 64)).toBe(true);
    expect(isValidUsername('', 64)).toBe(false);
  });

  it.each([
    ['accents', 'José Zoë Ærøskøbing'],
    ['a combining accent', 'Jose\u0301'],
    ['CJK', '山田太郎'],
    ['Hangul', '김민준'],
    ['Cyrillic', 'Иван'],
    ['Arabic', 'محمد'],
    ['Devanagari', 'अनु'],
    ['an emoji', '🦊 fox'],
    ['a space inside', 'Mary Ann'],
    ['punctuation', "o'neil-smith_2.0"],
    // docs/protocol.md, ECP-AUTH-06 notes: spaces are allowed anywhere in a name.
    ['a no-break space', 'a\u00a0b'],
    ['an ideographic space', 'a\u3000b'],
    ['an em space', 'a\u2003b'],
    ['a leading and a trailing space', ' alice '],
    // Only general category Cc is refused: format characters, separators and the like are the
    // client's to display safely (the spec's one rule, shared by the server and the client).
    ['a zero-width space (format)', 'a\u200bb'],
    ['a right-to-left override (format)', 'evil\u202egnp'],
    ['a byte order mark (format)', '\ufeffalice'],
    ['a soft hyphen (format)', 'al\u00adice'],
    ['a line separator', 'a\u2028b'],
    ['a paragraph separator', 'a\u2029b'],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', 'a\udc00'],
    ['a private-use character', 'a\ue000b'],
    ['an unassigned code point', 'a\u0378b'],
    ['a noncharacter', 'a\u{10ffff}'],
  ])('accepts %s: %j', (_name, username) => {
    expect(isValidUsername(username)).toBe(true);
  });

  it.each([
    ['a newline', 'a\nb'],
    ['a lone newline', '\n'],
    ['a carriage return', 'a\rb'],
    ['a tab', 'a\tb'],
    ['NUL', 'a\u0000b'],
    ['ESC', '\u001b[31mred'],
    ['DEL', 'a\u007fb'],
    ['a C1 control (NEL)', 'a\u0085b'],
  ])('refuses %s: %j', (_name, username) => {
    expect(isValidUsername(username)).toBe(false);
  });

  it('refuses any name containing a control character, wherever it is (property)', () => {
    const control = fc
      .oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
      .map((code) => String.fromCodePoint(code));
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-ascii', maxLength: 15 }),
        control,
        fc.string({ unit: 'grapheme-ascii', maxLength: 15 }),
        (before, bad, after) => {
          expect(isValidUsername(before + bad + after)).toBe(false);
        },
      ),
    );
  });

  it('accepts any printable ASCII name of 1 to 32 characters (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 32 }), (username) => {
        expect(isValidUsername(username)).toBe(true);
      }),
    );
  });
});
