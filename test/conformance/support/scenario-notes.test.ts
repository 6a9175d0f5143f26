import { describe, expect, it } from 'vitest';
import { noted, type ScenarioNotes } from '../../../conformance/support/scenario-notes.ts';

describe('scenario notes', () => {
  it('gives back what an earlier step noted', () => {
    const notes: ScenarioNotes = { crowd: ['member01'], payload: '' };
    expect(noted(notes, 'crowd')).toEqual(['member01']);
    expect(noted(notes, 'payload')).toBe('');
  });

  it('says which note is missing when no earlier step made it', () => {
    expect(() => noted({}, 'wrongPassword')).toThrow(/wrongPassword.*no earlier step/);
  });
});
