import { describe, expect, it } from 'vitest';
import { isCheckableOnServer, loadRequirements } from '../../conformance/requirements.ts';
import { HINTS, hintFor } from '../../conformance/support/hints.ts';
import { DEFAULT_LIMITS } from '../../protocol/index.ts';

describe('hints', () => {
  it('has advice for every server requirement, and none for an ID the specification lacks', () => {
    const ids = loadRequirements()
      .filter(isCheckableOnServer)
      .map((item) => item.id);
    expect(ids.filter((id) => HINTS[id] === undefined)).toEqual([]);
    expect(Object.keys(HINTS).filter((id) => !ids.includes(id))).toEqual([]);
  });

  it('tells a server that ignored a declared limit which value was checked and how to declare its own', () => {
    const declared = hintFor('ECP-LIM-01', { ...DEFAULT_LIMITS, maxLineBytes: 4096 });
    expect(declared).toContain('maxLineBytes=4096, as declared');
    expect(declared).toContain('--max-line-bytes N inside --spawn');
    expect(declared).toContain('--limits maxLineBytes=N');
    expect(hintFor('ECP-LIM-02', { ...DEFAULT_LIMITS })).toContain(
      "handshakeTimeoutMs=10000, the specification's default",
    );
    expect(hintFor('ECP-LIM-01')).toBe(HINTS['ECP-LIM-01']);
  });
});
