import { describe, expect, it } from 'vitest';
import { generateHistory } from '../../../conformance/fuzz/generator.ts';
import { formatHistory, parseHistory } from '../../../conformance/fuzz/history.ts';
import { repeatsFor } from '../../../conformance/fuzz/shrinker.ts';

describe('histories', () => {
  it('are the same for the same seed and read back from their text', () => {
    const history = generateHistory(7, 3, { clients: 4, steps: 40 });
    expect(generateHistory(7, 3, { clients: 4, steps: 40 })).toEqual(history);
    expect(generateHistory(8, 3, { clients: 4, steps: 40 })).not.toEqual(history);
    expect(parseHistory(formatHistory(history))).toEqual(history);
  });

  it('say which line they cannot read', () => {
    expect(() => parseHistory('c1 joins as ann\nc2 dances')).toThrow(
      "history line 2: cannot read 'c2 dances'",
    );
  });
});

describe('repeatsFor', () => {
  it('repeats a rarer race more, within bounds', () => {
    expect(repeatsFor(20, 20)).toBe(3);
    expect(repeatsFor(9, 20)).toBeGreaterThan(8);
    expect(repeatsFor(1, 20)).toBeGreaterThan(repeatsFor(9, 20));
    expect(repeatsFor(0, 20)).toBe(200);
  });
});
