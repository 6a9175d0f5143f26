import { describe, expect, it } from 'vitest';
import { AnnotationError, commandBlocks } from './blocks.ts';

const fence = '```';

describe('commandBlocks', () => {
  it('splits a transcript into commands and their output, with their lines in the page', () => {
    const page = ['# Title', '', `${fence}text`, '$ ecp one', 'out 1', '$ ecp two', fence, ''].join('\n');
    expect(commandBlocks('page.md', page)).toEqual([
      {
        file: 'page.md',
        line: 3,
        masks: [],
        commands: [
          { command: 'ecp one', line: 4, output: ['out 1'], outputLine: 5 },
          { command: 'ecp two', line: 6, output: [], outputLine: 7 },
        ],
      },
    ]);
  });

  it('leaves out blocks that show no command', () => {
    const page = [`${fence}sh`, 'ecp conformance', fence, '', `${fence}text`, 'PASS', fence].join('\n');
    expect(commandBlocks('page.md', page)).toEqual([]);
  });

  it('reads the annotation right before a block', () => {
    const page = [
      '<!-- illustrative: a session typed by hand -->',
      `${fence}text`,
      '$ ecp server',
      fence,
      '',
      "<!-- doc-test: { run: npm start, mask: ['\\d+ of \\d+'] } -->",
      `${fence}text`,
      'PASS 3 of 4',
      fence,
      '',
      '<!-- doc-test:',
      'illustrative: { 2: runs until stopped }',
      '-->',
      `${fence}text`,
      '$ ecp mutant list',
      '$ ecp mutant serve 5',
      fence,
    ].join('\n');
    const [session, start, mutants] = commandBlocks('page.md', page);
    expect(session?.illustrative).toBe('a session typed by hand');
    expect(start?.commands).toEqual([
      { command: 'npm start', line: 7, output: ['PASS 3 of 4'], outputLine: 8 },
    ]);
    expect(start?.masks.map(String)).toEqual(['/\\d+ of \\d+/g']);
    expect(mutants?.commands.map((command) => command.illustrative)).toEqual([
      undefined,
      'runs until stopped',
    ]);
  });

  it('reads what a block needs to run', () => {
    const page = [
      '<!-- doc-test: { needs: go version } -->',
      `${fence}text`,
      '$ go run server.go',
      fence,
    ].join('\n');
    expect(commandBlocks('page.md', page)[0]?.needs).toBe('go version');
  });

  it('refuses an annotation it cannot use, naming the page and line', () => {
    const blockAfter = (comment: string) => [comment, `${fence}text`, '$ ecp', fence].join('\n');
    expect(() => commandBlocks('p.md', blockAfter('<!-- illustrative: -->'))).toThrow(AnnotationError);
    expect(() => commandBlocks('p.md', blockAfter('<!-- doc-test: { runs: x } -->'))).toThrow(
      'p.md:2: unknown doc-test keys: runs',
    );
    expect(() => commandBlocks('p.md', blockAfter('<!-- doc-test: { illustrative: { 3: x } } -->'))).toThrow(
      'p.md:2: the block has no command 3',
    );
    expect(() => commandBlocks('p.md', blockAfter("<!-- doc-test: { mask: '(' } -->"))).toThrow(/mask \(/);
  });
});
