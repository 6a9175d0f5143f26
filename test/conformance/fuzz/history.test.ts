import { describe, expect, it } from 'vitest';
import { generateHistory } from '../../../conformance/fuzz/generator.ts';
import { formatHistory, parseHistory } from '../../../conformance/fuzz/history.ts';

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
