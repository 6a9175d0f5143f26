import { describe, expect, it } from 'vitest';
import { compareOutput, mask, refreshOutput } from './match.ts';

describe('mask', () => {
  it('hides timings, dates, clock times, ports and sizes', () => {
    expect(mask('21 scenarios: 1 passed, in 2.5 s')).toBe('21 scenarios: 1 passed, in <duration>');
    expect(mask('  ✓ core  lab 1  ECP-FR-01  A line  30 ms')).toBe(
      '  ✓ core  lab 1  ECP-FR-01  A line  <duration>',
    );
    expect(mask('A: x (5 runs, 2026-11-27T00:15:27.370Z)')).toBe('A: x (5 runs, <date>)');
    expect(mask('12:55:24 not implemented yet')).toBe('<clock> not implemented yet');
    expect(mask('server at 127.0.0.1:43487')).toBe('server at 127.0.0.1:<port>');
    expect(mask('received 69 (4.0 MiB so far)')).toBe('received 69 (<size> so far)');
  });

  it('hides the seed a run drew for its random inputs', () => {
    expect(mask('160 scenarios: 147 passed, in 19.9 s (seed 1583897241)')).toBe(
      '160 scenarios: 147 passed, in <duration> (seed <seed>)',
    );
    expect(mask('ECP conformance · lab 1 · timeout 2 s · seed 275170561')).toBe(
      'ECP conformance · lab 1 · timeout <duration> · seed <seed>',
    );
  });

  it("keeps counts and names, and applies a page's own patterns", () => {
    expect(mask('lab 1 21/21 · lab 2 18/18')).toBe('lab 1 21/21 · lab 2 18/18');
    expect(mask('runs: 7 of 9', [/\d+ of \d+/g])).toBe('runs: <masked>');
  });
});

describe('compareOutput', () => {
  it('matches output that differs only in masked figures and trailing space', () => {
    expect(compareOutput(['done in 1.5 s', ''], ['done in 27.0 s   ', '', ''])).toEqual({ matches: true });
  });

  it('lets a `...` line stand for any number of lines, none included', () => {
    const doc = ['head', '  ...', 'tail'];
    expect(compareOutput(doc, ['head', 'a', 'b', 'tail']).matches).toBe(true);
    expect(compareOutput(doc, ['head', 'tail']).matches).toBe(true);
    expect(compareOutput(['...', 'tail'], ['x', 'tail']).matches).toBe(true);
    expect(compareOutput(doc, ['head', 'a', 'tail', 'more']).matches).toBe(false);
  });

  it('lets `...` inside a line stand for any text', () => {
    expect(compareOutput(['Evidence: a.txt, ...'], ['Evidence: a.txt, b.txt, c.txt']).matches).toBe(true);
    expect(compareOutput(['Evidence: a.txt, ...'], ['Evidence: b.txt']).matches).toBe(false);
  });

  it('points at the first line of the page that no alignment gets past', () => {
    expect(compareOutput(['one', '...', 'three', 'four'], ['one', 'two', 'three', 'five'])).toEqual({
      matches: false,
      firstMismatch: 3,
    });
  });

  it('fails when the program prints lines the page does not show', () => {
    expect(compareOutput(['PASS'], ['PASS', 'Reports: reports/summary.md']).matches).toBe(false);
  });
});

describe('refreshOutput', () => {
  it('replaces the lines of a block without elisions that no longer match', () => {
    expect(refreshOutput(['old', 'done in 0.8 s'], ['new', 'done in 5.1 s', 'Report: r.json', ''])).toEqual([
      'new',
      'done in 0.8 s',
      'Report: r.json',
    ]);
  });

  it('keeps the elisions and every line that still matches, with its own figures', () => {
    const doc = ['ECP conformance', '  ...', '  ✓ lab 1  A line  30 ms', '  ...', '21 scenarios, in 2.5 s'];
    const printed = [
      'ECP conformance',
      '  ✓ lab 1  Another  3 ms',
      '  ✓ lab 1  A line  7 ms',
      '  ✓ lab 1  More  1 ms',
      '23 scenarios, in 3.1 s',
      'Reports: reports/',
    ];
    expect(refreshOutput(doc, printed)).toEqual([
      'ECP conformance',
      '  ...',
      '  ✓ lab 1  A line  30 ms',
      '  ...',
      '23 scenarios, in 3.1 s',
      'Reports: reports/',
    ]);
    expect(compareOutput(refreshOutput(doc, printed), printed).matches).toBe(true);
  });

  it('keeps a closing `...` standing for the rest', () => {
    expect(refreshOutput(['first', '...'], ['changed', 'b', 'c'])).toEqual(['changed', '...']);
    expect(refreshOutput(['...', 'last'], ['a', 'b', 'changed'])).toEqual(['...', 'changed']);
  });
});
