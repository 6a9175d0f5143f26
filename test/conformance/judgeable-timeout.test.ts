import { describe, expect, it } from 'vitest';
import { JUDGEABLE_SLOW_READER_TIMEOUT_MS, slowReaderTimeoutWarning } from '../../conformance/index.ts';

describe('slowReaderTimeoutWarning', () => {
  it('warns of a timeout below what the kit can judge bursts against, saying what to do', () => {
    const warning = slowReaderTimeoutWarning({ slowReaderTimeoutMs: 1000 });
    expect(warning).toContain('a slow-reader timeout of 1000 ms is below the 3000 ms');
    expect(warning).toContain('ECP-LIM-07, ECP-LIM-08');
    expect(warning).toContain('--slow-reader-timeout-ms 3000');
  });

  it('says nothing from the judgeable timeout up, the default included', () => {
    expect(
      slowReaderTimeoutWarning({ slowReaderTimeoutMs: JUDGEABLE_SLOW_READER_TIMEOUT_MS }),
    ).toBeUndefined();
    expect(slowReaderTimeoutWarning({ slowReaderTimeoutMs: 5000 })).toBeUndefined();
    expect(
      slowReaderTimeoutWarning({ slowReaderTimeoutMs: JUDGEABLE_SLOW_READER_TIMEOUT_MS - 1 }),
    ).toBeDefined();
  });
});
