import { describe, expect, it } from 'vitest';
import type { GradedScenario } from '../../grade/model.ts';
import { emptyLab, labGrade, outcomeOf, totals, verdictOf } from '../../grade/scoring.ts';

const scenario = (attempts: string[]): GradedScenario => ({
  location: 'features/x.feature:1',
  name: 'x',
  requirements: [],
  outcome: outcomeOf(attempts),
  attempts,
});

describe('outcomes over attempts', () => {
  it('is flaky when a scenario both failed and passed, apart from pass and fail', () => {
    expect(outcomeOf(['passed'])).toBe('passed');
    expect(outcomeOf(['failed', 'failed', 'failed'])).toBe('failed');
    expect(outcomeOf(['failed', 'passed'])).toBe('flaky');
    expect(outcomeOf(['skipped'])).toBe('skipped');
    expect(outcomeOf(['undefined'])).toBe('failed');
  });
});

describe('lab points', () => {
  it('are the weight times the share passed of the checkable scenarios, a flaky one earning its credit', () => {
    const scenarios = [
      scenario(['passed']),
      scenario(['passed']),
      scenario(['failed', 'passed']),
      scenario(['failed', 'failed']),
      scenario(['skipped']),
    ];
    const grade = labGrade({ number: 2, weight: 10 }, scenarios, 0.5);
    expect(grade).toMatchObject({
      lab: 2,
      passed: 2,
      flaky: 1,
      failed: 1,
      skipped: 1,
      total: 5,
      points: 6.25,
    });
    expect(labGrade({ number: 2, weight: 10 }, scenarios, 0).points).toBe(5);
  });

  it('round to two decimals, and a lab that did not run is worth nothing but still counts as possible', () => {
    const thirds = labGrade(
      { number: 1, weight: 10 },
      [scenario(['passed']), scenario(['failed']), scenario(['failed'])],
      0.5,
    );
    expect(thirds.points).toBe(3.33);
    const labs = [thirds, emptyLab({ number: 3, weight: 15 }, 'not-run')];
    expect(totals(labs)).toEqual({ total: 3.33, possible: 25 });
  });
});

describe('the row verdict', () => {
  const graded = labGrade({ number: 1, weight: 10 }, [scenario(['passed'])], 0.5);
  const crashed = labGrade({ number: 2, weight: 10 }, [scenario(['failed'])], 0.5, { status: 'crashed' });
  it('says what went worst', () => {
    expect(verdictOf([graded], undefined, false)).toBe('graded');
    expect(verdictOf([graded, crashed], undefined, false)).toBe('crashed');
    expect(verdictOf([graded, crashed], undefined, true)).toBe('timed-out');
    expect(verdictOf([], 'did-not-start', false)).toBe('did-not-start');
    expect(verdictOf([], 'no-answer', true)).toBe('no-answer');
    expect(verdictOf([graded], 'crashed', false)).toBe('crashed');
  });
});
