import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const ECP = fileURLToPath(new URL('../../bin/ecp.js', import.meta.url));

describe('docs/grading.md', () => {
  const doc = read('docs/grading.md');

  it("lists --html with the command's default, and says when a lab keeps cucumber.html", () => {
    const help = spawnSync(process.execPath, [ECP, 'grade', '--help'], { encoding: 'utf8' }).stdout;
    const fallback = /--html[\s\S]*?\[default: "(\w+)"\]/.exec(help)?.[1];
    expect(fallback).toBe('failing');
    expect(doc).toMatch(new RegExp(`^\\| \`--html [A-Z]+\` +\\| \`${fallback}\` +\\|`, 'm'));
    // Wherever a lab's folder is said to hold cucumber.html, the same sentence says when.
    const outputs = /^ {2}students\/001-ada\/lab-1\/ [\s\S]*?(?=\n {2}students\/004)/m.exec(doc)?.[0] ?? '';
    expect(outputs).toContain('cucumber.html');
    expect(outputs).toMatch(/--html/);
  });
});

describe("README's grading times", () => {
  it('are the ones measured in docs/grading.md', () => {
    const rows = new Map(
      [...read('docs/grading.md').matchAll(/^\| +(\d+) \| +([\d.]+ s) \|/gm)].map(([, count, wall]) => [
        Number(count),
        wall,
      ]),
    );
    const sentence = /^Twenty complete servers[\s\S]*?\n\n/m.exec(read('README.md'))?.[0] ?? '';
    const [twenty, one] = [...sentence.matchAll(/([\d.]+ s)/g)].map(([, time]) => time);
    expect([twenty, one]).toEqual([rows.get(20), rows.get(1)]);
  });
});
