import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, type DecodedLine, FramingError, LineDecoder } from '../../protocol/index.ts';

/** A decoded item made comparable: the line itself, or the error's code. */
type Outcome = string | { error: string };

function outcomes(items: DecodedLine[]): Outcome[] {
  return items.map((item) => {
    if (typeof item === 'string') return item;
    expect(item).toBeInstanceOf(FramingError);
    return { error: item.code };
  });
}

function feed(decoder: LineDecoder, chunks: Iterable<Uint8Array>): Outcome[] {
  const out: Outcome[] = [];
  for (const chunk of chunks) {
    out.push(...outcomes(decoder.push(chunk)));
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(decoder.maxLineBytes + 1);
  }
  return out;
}

/** Cuts `bytes` at the given offsets. Chunks are plain Uint8Array views with a non-zero byteOffset. */
function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

function bytesOf(...parts: Array<string | number[]>): Uint8Array {
  // A plain Uint8Array (not a Buffer) exercises the decoder's view conversion.
  return new Uint8Array(
    Buffer.concat(
      parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))),
    ),
  );
}

/**
 * What the decoder must yield for a whole input, worked out line by line without any chunking.
 * UTF-8 validity is checked by a round trip through Node's lenient decoder, independently of the
 * decoder's TextDecoder.
 */
function expectedOutcomes(input: Uint8Array, maxLineBytes: number): Outcome[] {
  const out: Outcome[] = [];
  const buf = Buffer.from(input);
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl === -1) {
      // An unterminated tail is reported as soon as it can no longer fit, and not otherwise.
      if (buf.length - start > maxLineBytes + 1) out.push({ error: 'ECP_LINE_TOO_LONG' });
      return out;
    }
    let line = buf.subarray(start, nl);
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    if (line.length > maxLineBytes) out.push({ error: 'ECP_LINE_TOO_LONG' });
    else if (line.length > 0) {
      const text = line.toString('utf8');
      out.push(Buffer.from(text, 'utf8').equals(line) ? text : { error: 'ECP_INVALID_UTF8' });
    }
    start = nl + 1;
  }
}

// Two- to four-byte characters (é, €, 中, 😀, 𝄞), CRLF and LF endings, blank lines of both kinds.
const FIXED_TEXT = 'héllo wörld\r\n\n€uro 😀 emoji\n\r\n中文 line\r\n\n\nlast 𝄞😀\n';
const FIXED_LINES = ['héllo wörld', '€uro 😀 emoji', '中文 line', 'last 𝄞😀'];

describe('LineDecoder framing', () => {
  it('the fixed input holds every kind of multi-byte character, including 4-byte ones', () => {
    const bytes = Buffer.from(FIXED_TEXT);
    expect(bytes.includes(Buffer.from('😀'))).toBe(true);
    expect(Buffer.from('😀').length).toBe(4);
    expect(bytes.includes(Buffer.from('\n\r\n'))).toBe(true); // a blank CRLF line
    expect(bytes.includes(Buffer.from('\n\n'))).toBe(true); // a blank LF line
  });

  it('decodes the fixed input delivered whole', () => {
    expect(feed(new LineDecoder(), [bytesOf(FIXED_TEXT)])).toEqual(FIXED_LINES);
  });

  it('decodes the fixed input split at every byte boundary', () => {
    const bytes = bytesOf(FIXED_TEXT);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new LineDecoder();
      expect(feed(decoder, splitAt(bytes, [cut])), `cut at ${cut}`).toEqual(FIXED_LINES);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes the fixed input split at every pair of byte boundaries', () => {
    const bytes = bytesOf(FIXED_TEXT);
    for (let first = 0; first <= bytes.length; first++) {
      for (let second = first; second <= bytes.length; second++) {
        expect(feed(new LineDecoder(), splitAt(bytes, [first, second])), `cuts ${first}, ${second}`).toEqual(
          FIXED_LINES,
        );
      }
    }
  });

  it('decodes the fixed input delivered one byte at a time', () => {
    const bytes = bytesOf(FIXED_TEXT);
    const decoder = new LineDecoder();
    const out: Outcome[] = [];
    for (let i = 0; i < bytes.length; i++) {
      out.push(...feed(decoder, [bytes.subarray(i, i + 1)]));
      // A partial line is held, never decoded early (it may end inside a character).
      const lastNewline = bytes.subarray(0, i + 1).lastIndexOf(0x0a);
      expect(decoder.bufferedBytes).toBe(i - lastNewline);
    }
    expect(out).toEqual(FIXED_LINES);
  });

  it('yields the same lines for any text and any split points (property)', () => {
    const lineText = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 20 })
      .filter((s) => !/[\r\n]/.test(s));
    const entry = fc.oneof(
      fc.record({ text: lineText, ending: fc.constantFrom('\n', '\r\n') }),
      fc.record({ text: fc.constant(''), ending: fc.constantFrom('\n', '\r\n') }),
    );
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (entries, cuts) => {
          const bytes = bytesOf(entries.map((e) => e.text + e.ending).join(''));
          const expected = entries.map((e) => e.text).filter((text) => text !== '');
          const decoder = new LineDecoder();
          expect(feed(decoder, splitAt(bytes, cuts))).toEqual(expected);
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches the line-by-line model for arbitrary bytes, limits and splits (property)', () => {
    // Bytes chosen to hit every branch: newlines, CR, ASCII, lead and continuation bytes, invalid bytes.
    const interesting = [
      0x0a, 0x0d, 0x61, 0x20, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xc0,
    ];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...interesting), { maxLength: 80 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (input, maxLineBytes, cuts) => {
          const bytes = Uint8Array.from(input);
          const decoder = new LineDecoder({ maxLineBytes });
          expect(feed(decoder, splitAt(bytes, cuts))).toEqual(expectedOutcomes(bytes, maxLineBytes));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('delivers many lines from one chunk, in order', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} ${'ü'.repeat(i % 7)}`);
    const decoder = new LineDecoder();
    expect(feed(decoder, [bytesOf(`${lines.join('\n')}\n`)])).toEqual(lines);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('keeps an unterminated last line until its newline arrives', () => {
    const decoder = new LineDecoder();
    expect(feed(decoder, [bytesOf('one\ntw')])).toEqual(['one']);
    expect(decoder.bufferedBytes).toBe(2);
    expect(feed(decoder, [bytesOf('o\r'), bytesOf('\n')])).toEqual(['two']);
  });

  it('accepts CRLF endings and strips exactly one CR', () => {
    expect(feed(new LineDecoder(), [bytesOf('a\r\nb\r\r\nc\rd\n')])).toEqual(['a', 'b\r', 'c\rd']);
  });

  it('skips blank lines, LF and CRLF alike, and a lone newline chunk', () => {
    const decoder = new LineDecoder();
    expect(feed(decoder, [bytesOf('\n\n\r\n\n'), bytesOf('\n'), bytesOf('\r'), bytesOf('\n')])).toEqual([]);
    expect(feed(decoder, [bytesOf('x\n\n')])).toEqual(['x']);
  });

  it('keeps whitespace-only lines and leading spaces: only empty lines are blank', () => {
    expect(feed(new LineDecoder(), [bytesOf(' \n\t\n  x \n')])).toEqual([' ', '\t', '  x ']);
  });

  it('keeps a leading byte order mark: the line is delivered exactly as sent', () => {
    expect(feed(new LineDecoder(), [bytesOf('\uFEFFhello\n')])).toEqual(['\uFEFFhello']);
  });

  it('accepts Buffers and plain Uint8Array views with an offset into a larger buffer', () => {
    const backing = new Uint8Array(Buffer.from('XXXhi\nthereYYY'));
    const decoder = new LineDecoder();
    expect(feed(decoder, [Buffer.from('hey\n'), backing.subarray(3, 11), bytesOf('\n')])).toEqual([
      'hey',
      'hi',
      'there',
    ]);
  });

  it('does not depend on the caller keeping a pushed chunk unchanged', () => {
    // Readers that recycle one buffer (net's `onread`) overwrite it after `push` returns.
    const chunk = new Uint8Array(Buffer.from('abc'));
    const decoder = new LineDecoder();
    decoder.push(chunk);
    chunk.set(Buffer.from('XYZ'));
    expect(feed(decoder, [bytesOf('\n')])).toEqual(['abc']);
  });

  it('reset() forgets a partial line', () => {
    const decoder = new LineDecoder();
    decoder.push(bytesOf('partial'));
    decoder.reset();
    expect(decoder.bufferedBytes).toBe(0);
    expect(feed(decoder, [bytesOf('fresh\n')])).toEqual(['fresh']);
  });

  it('reset() ends the discarding of an over-long line', () => {
    const decoder = new LineDecoder({ maxLineBytes: 4 });
    expect(feed(decoder, [bytesOf('toolongline')])).toEqual([{ error: 'ECP_LINE_TOO_LONG' }]);
    decoder.reset();
    expect(feed(decoder, [bytesOf('ok\n')])).toEqual(['ok']);
  });
});

describe('LineDecoder line length limit', () => {
  const LIMIT = 8;
  const TOO_LONG = { error: 'ECP_LINE_TOO_LONG' };

  function decodeAllSplits(text: string | Uint8Array, maxLineBytes = LIMIT): Outcome[] {
    const bytes = typeof text === 'string' ? bytesOf(text) : text;
    const whole = feed(new LineDecoder({ maxLineBytes }), [bytes]);
    for (let first = 0; first <= bytes.length; first++) {
      for (let second = first; second <= bytes.length; second++) {
        const decoder = new LineDecoder({ maxLineBytes });
        expect(feed(decoder, splitAt(bytes, [first, second])), `cuts ${first}, ${second}`).toEqual(whole);
      }
    }
    return whole;
  }

  it('accepts a line of exactly maxLineBytes, with LF or CRLF', () => {
    expect(decodeAllSplits('abcdefgh\n')).toEqual(['abcdefgh']);
    expect(decodeAllSplits('abcdefgh\r\n')).toEqual(['abcdefgh']);
  });

  it('counts bytes, not characters', () => {
    expect(decodeAllSplits('€€ab\n')).toEqual(['€€ab']); // 3 + 3 + 2 = 8 bytes
    expect(decodeAllSplits('😀😀\r\n')).toEqual(['😀😀']); // 8 bytes
    expect(decodeAllSplits('€€€\nok\n')).toEqual([TOO_LONG, 'ok']); // 3 characters, 9 bytes
  });

  it('reports maxLineBytes + 1 once, then resyncs at the next newline', () => {
    expect(decodeAllSplits('abcdefghi\nnext\n')).toEqual([TOO_LONG, 'next']);
    expect(decodeAllSplits('abcdefghi\r\nnext\r\n')).toEqual([TOO_LONG, 'next']);
    // A CR that is not part of the line ending counts.
    expect(decodeAllSplits('abcdefgh\rx\nnext\n')).toEqual([TOO_LONG, 'next']);
    expect(decodeAllSplits('abcdefgh\r\r\nnext\n')).toEqual([TOO_LONG, 'next']);
  });

  it('reports every over-long line once, even back to back', () => {
    expect(decodeAllSplits('0123456789\n0123456789abcdef\nok\n')).toEqual([TOO_LONG, TOO_LONG, 'ok']);
  });

  it('works with the smallest limit, 1 byte', () => {
    expect(decodeAllSplits('a\r\nbc\n\r\nd\n', 1)).toEqual(['a', TOO_LONG, 'd']);
  });

  it('keeps memory bounded while an over-long line arrives in many small chunks', () => {
    const maxLineBytes = 100;
    const decoder = new LineDecoder({ maxLineBytes });
    const out: Outcome[] = [];
    let peak = 0;
    const chunk = bytesOf('x'.repeat(7));
    for (let i = 0; i < 10_000; i++) {
      out.push(...outcomes(decoder.push(chunk)));
      peak = Math.max(peak, decoder.bufferedBytes);
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxLineBytes + 1);
    }
    expect(out).toEqual([TOO_LONG]);
    expect(peak).toBeGreaterThan(90); // it did buffer up to the limit before giving up
    expect(decoder.bufferedBytes).toBe(0); // and holds nothing while it discards
    expect(feed(decoder, [bytesOf('still the long line\nafter\n')])).toEqual(['after']);
  });

  it('uses 1 MiB by default: a 1 MiB line passes, one byte more does not', () => {
    const decoder = new LineDecoder();
    expect(decoder.maxLineBytes).toBe(1024 * 1024);
    expect(DEFAULT_MAX_LINE_BYTES).toBe(1024 * 1024);
    const line = 'y'.repeat(1024 * 1024);
    expect(feed(decoder, [bytesOf(`${line}\r\n`)])).toEqual([line]);
    expect(feed(decoder, [bytesOf(`${line}z\nok\n`)])).toEqual([TOO_LONG, 'ok']);
  });
});

describe('LineDecoder UTF-8 validation', () => {
  const INVALID = { error: 'ECP_INVALID_UTF8' };
  const cases: Array<[string, number[]]> = [
    ['a lone 0xff byte', [0x61, 0xff, 0x62]],
    ['a lone continuation byte', [0x80]],
    ['a 2-byte sequence cut before the newline', [0x61, 0xc3]],
    ['a 3-byte sequence cut before the newline', [0xe2, 0x82]],
    ['a 4-byte emoji cut before the newline', [0xf0, 0x9f, 0x98]],
    ['an overlong 2-byte encoding of "/"', [0xc0, 0xaf]],
    ['an overlong 3-byte encoding of "/"', [0xe0, 0x80, 0xaf]],
    ['an overlong 4-byte encoding of "€"', [0xf0, 0x82, 0x82, 0xac]],
    ['a UTF-16 surrogate encoded as UTF-8 (CESU-8)', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ];

  it.each(cases)('refuses %s and recovers on the next line', (_name, bad) => {
    const input = bytesOf('before\n', bad, '\r\nafter\n');
    for (let cut = 0; cut <= input.length; cut++) {
      expect(feed(new LineDecoder(), splitAt(input, [cut])), `cut at ${cut}`).toEqual([
        'before',
        INVALID,
        'after',
      ]);
    }
  });

  it('reports an invalid line that is also at the length limit as invalid UTF-8', () => {
    expect(feed(new LineDecoder({ maxLineBytes: 3 }), [bytesOf([0xc0, 0xaf, 0x61], '\n')])).toEqual([
      INVALID,
    ]);
  });
});

describe('LineDecoder options', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxLineBytes %s', (maxLineBytes) => {
    expect(() => new LineDecoder({ maxLineBytes })).toThrow(RangeError);
  });

  it('accepts any positive integer and exposes it', () => {
    expect(new LineDecoder({ maxLineBytes: 1 }).maxLineBytes).toBe(1);
    expect(new LineDecoder({ maxLineBytes: 5000 }).maxLineBytes).toBe(5000);
    expect(new LineDecoder({}).maxLineBytes).toBe(DEFAULT_MAX_LINE_BYTES);
  });
});

describe('LineDecoder scans each byte once', () => {
  it('decodes 5 MiB pushed one byte at a time, including a 3 MiB line', { timeout: 30_000 }, async ({
    signal,
  }) => {
    // A decoder that rescanned or re-copied its partial line on every push would take hours here.
    // The loop yields now and then so that the test timeout can stop such a decoder instead of hanging.
    const bigLine = 'é'.repeat(1.5 * 1024 * 1024); // 3 MiB
    const lines = [bigLine];
    let size = Buffer.byteLength(bigLine) + 1;
    for (let i = 0; size < 5 * 1024 * 1024; i++) {
      const line = `line ${i} ${'x'.repeat(i % 500)} 😀`;
      lines.push(line);
      size += Buffer.byteLength(line) + 2;
    }
    const input = Buffer.from(`${lines.join('\r\n')}\r\n`);
    expect(input.length).toBeGreaterThanOrEqual(5 * 1024 * 1024);

    const decoder = new LineDecoder({ maxLineBytes: 4 * 1024 * 1024 });
    const out: DecodedLine[] = [];
    let peak = 0;
    for (let i = 0; i < input.length; i++) {
      const items = decoder.push(input.subarray(i, i + 1));
      for (const item of items) out.push(item);
      if (decoder.bufferedBytes > peak) peak = decoder.bufferedBytes;
      if (i % 4096 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        signal.throwIfAborted();
      }
    }
    expect(peak).toBe(Buffer.byteLength(bigLine) + 1); // the line and its CR
    expect(out.length).toBe(lines.length);
    expect(out[0]).toBe(bigLine);
    expect(out).toEqual(lines);
    expect(decoder.bufferedBytes).toBe(0);
  });
});
