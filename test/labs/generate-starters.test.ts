/**
 * The starters are written from the solutions (labs/generate-starters.ts): regenerating them
 * changes nothing, and a solution's markers are read strictly, so a misplaced one fails loudly.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  STARTER_SOURCES,
  STARTERS_FOLDER,
  StarterMarkerError,
  solutionWithoutMarkers,
  starterFrom,
  writeStarters,
} from '../../labs/generate-starters.ts';

describe('the committed starters', () => {
  it('are what the generator writes from the solutions (else: npm run labs:starters)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'ecp-starters-'));
    const written = writeStarters(folder);
    expect(written).toHaveLength(STARTER_SOURCES.length);
    for (const source of STARTER_SOURCES) {
      const generated = readFileSync(join(folder, source.starter), 'utf8');
      const committed = readFileSync(join(STARTERS_FOLDER, source.starter), 'utf8');
      expect(generated, source.starter).toBe(committed);
    }
  });

  it("keep a TODO of their track's first lab (1 for servers, 11 for clients), and no marker", () => {
    for (const source of STARTER_SOURCES) {
      const starter = readFileSync(join(STARTERS_FOLDER, source.starter), 'utf8');
      expect(starter).toContain(source.solution.includes('client') ? 'TODO(lab 11)' : 'TODO(lab 1)');
      expect(starter).not.toContain(`${source.comment} starter begin`);
      expect(starter).not.toContain(`${source.comment}|`);
    }
  });
});

describe('starterFrom', () => {
  it('puts the starter lines, indented as their marker, where the solution lines were', () => {
    const solution = [
      'def feed(data):',
      '    # starter begin',
      '    #| # TODO(lab 1): split the lines',
      '    #|',
      '    #| raise NotImplementedError("TODO(lab 1)")',
      '    return data.split(b"\\n")',
      '    # starter end',
      '',
    ].join('\n');
    expect(starterFrom(solution, '#')).toBe(
      [
        'def feed(data):',
        '    # TODO(lab 1): split the lines',
        '',
        '    raise NotImplementedError("TODO(lab 1)")',
        '',
      ].join('\n'),
    );
  });

  it('gives the solution alone without its markers and starter lines', () => {
    const solution = 'a\n  // starter begin\n  //| todo()\n  b\n  // starter end\nc';
    expect(solutionWithoutMarkers(solution, '//')).toBe('a\n  b\nc');
  });

  it('drops a region with no starter lines, and leaves a text without markers as it is', () => {
    expect(starterFrom('a\n// starter begin\nb\n// starter end\nc', '//')).toBe('a\nc');
    expect(starterFrom('a\n  b\n', '//')).toBe('a\n  b\n');
  });

  it.each([
    ['a region inside another', '# starter begin\n# starter begin\n# starter end', 2],
    ['an end without a begin', 'a\n# starter end', 2],
    ['a begin without an end', 'a\n# starter begin\nb', 2],
    ['a starter line outside a region', '#| b', 1],
    ['a starter line without its space', '# starter begin\n#|b\n# starter end', 2],
    ['an unknown marker', '# starter begin\n# starter ends\n# starter end', 2],
    ['an unknown marker outside a region', 'a\n# starter begn', 2],
  ])('refuses %s, naming its line', (_, solution, line) => {
    expect(() => starterFrom(solution, '#')).toThrow(StarterMarkerError);
    expect(() => starterFrom(solution, '#')).toThrow(`line ${line}:`);
  });
});
