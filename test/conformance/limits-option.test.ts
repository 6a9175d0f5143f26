import { describe, expect, it } from 'vitest';
import { formatLimits, limitsFromCommand, parseLimitsOption } from '../../conformance/limits-option.ts';

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

  it('reads the limits a spawned server is given with the contract flags', () => {
    expect(
      limitsFromCommand(
        'python3 server.py --port {port} --max-line-bytes 65536 --handshake-timeout-ms=1000 --max-connections x',
      ),
    ).toEqual({ maxLineBytes: 65536, handshakeTimeoutMs: 1000 });
    expect(limitsFromCommand('./server --my-max-line-bytes 5 --max-username-length 12')).toEqual({
      maxUsernameLength: 12,
    });
    expect(limitsFromCommand('./server --port {port}')).toEqual({});
  });
});
