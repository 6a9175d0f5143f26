import { describe, expect, it } from 'vitest';
import { SeededBytes } from '../../../conformance/support/seeded-bytes.ts';

describe('SeededBytes', () => {
  it('gives the same bytes for the same seed and scenario, in any chunking', () => {
    const whole = new SeededBytes(7, 'features/x.feature: a scenario').next(100);
    const parts = new SeededBytes(7, 'features/x.feature: a scenario');
    expect(whole.subarray(0, 32)).toEqual(parts.next(32));
    expect(whole.subarray(32, 64)).toEqual(parts.next(32));
    expect(whole).toHaveLength(100);
  });

  it('differs with the seed and with the scenario', () => {
    const bytes = (seed: number, scope: string) => new SeededBytes(seed, scope).next(64).toString('hex');
    expect(bytes(7, 'a')).not.toBe(bytes(8, 'a'));
    expect(bytes(7, 'a')).not.toBe(bytes(7, 'b'));
  });

  it('makes texts of the asked length from its alphabet', () => {
    expect(new SeededBytes(1, 'a').text(12)).toMatch(/^[a-z0-9]{12}$/);
  });
});
