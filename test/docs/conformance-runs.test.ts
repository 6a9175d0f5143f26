/**
 * `npm test` runs the embedded server's suite and `ecp client --json`'s suite over tcp once each,
 * in test:docs: README.md shows both runs' summaries whole (`npm start`, and `ecp conformance
 * --client ...`), so a scenario that fails changes what the page shows and test:docs fails.
 * test:conformance and test:client-conformance run the other transports only. These checks keep
 * that true: should either block stop being run, or stop showing its summary, the tcp run goes
 * back into its npm script.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandBlocks } from './blocks.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;

/** The output README.md shows for `command`, when test:docs runs it. */
function checkedOutput(command: string): string[] | undefined {
  const blocks = commandBlocks('README.md', README).filter((block) => !block.illustrative);
  return blocks
    .flatMap((block) => block.commands)
    .find((item) => item.command === command && !item.illustrative)?.output;
}

describe('the tcp conformance runs that test:docs stands in for', () => {
  it.each([
    ['npm start', 'test:conformance'],
    [
      'ecp conformance --client "ecp client {url} -u {username} -p {password} --json"',
      'test:client-conformance',
    ],
  ])('README.md runs `%s` and shows its whole verdict, so %s need not', (command, script) => {
    const output = checkedOutput(command);
    expect(output, `README.md has no block test:docs runs for ${command}`).toBeDefined();
    expect(output).toContainEqual(expect.stringMatching(/^PASS {2}/));
    expect(output).toContainEqual(expect.stringMatching(/^\d+ scenarios: \d+ passed, 0 failed, /));
    // Every run of the script names another transport.
    const runs = scripts[script]!.split('&&');
    expect(runs.every((run) => /--transport (tls|ws|wss) /.test(run))).toBe(true);
  });
});
