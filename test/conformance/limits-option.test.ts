import { describe, expect, it } from 'vitest';
import { formatLimits, parseLimitsOption } from '../../conformance/limits-option.ts';

describe('--limits', () => {
  it('parses name=value pairs and formats them back', () => {
    const limits = parseLimitsOption('handshakeTimeoutMs=1500, maxLineBytes=65536');
    expect(limits).toEqual({ handshakeTimeoutMs: 1500, maxLineBytes: 65536 });
    expect(formatLimits(limits)).toBe('handshakeTimeoutMs=1500,maxLineBytes=65536');
  });

  it.each([
    ['timeout=5', /unknown limit 'timeout'/],
    ['maxLineBytes=-1', /positive whole number/],
    ['maxLineBytes=1.5', /positive whole number/],
    ['maxLineBytes=', /positive whole number/],
    ['maxLineBytes=1=2', /positive whole number/],
  ])('refuses %s', (text, message) => {
    expect(() => parseLimitsOption(text)).toThrow(message);
  });
});
