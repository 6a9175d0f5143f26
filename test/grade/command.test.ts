import { describe, expect, it } from 'vitest';
import { shortSlowReaderTimeoutWarnings } from '../../grade/command.ts';
import type { Submission } from '../../grade/roster.ts';

function server(row: number, student: string, command: string): Submission {
  return { row, student, kind: 'server', dir: '/tmp', command };
}

describe('shortSlowReaderTimeoutWarnings', () => {
  const flags = (ms: number) => `python3 server.py --port {port} {limits} --slow-reader-timeout-ms ${ms}`;

  it("warns once per short timeout, naming the servers, from each command's own flag", () => {
    const warnings = shortSlowReaderTimeoutWarnings(
      [
        server(1, 'ada', flags(1000)),
        server(2, 'grace', flags(3000)),
        server(3, 'linus', 'python3 server.py --port {port} {limits}'),
        server(4, 'ken', flags(1000)),
        server(5, 'dennis', flags(2000)),
      ],
      {},
    );
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^ecp grade: warning: ada, ken: a slow-reader timeout of 1000 ms is below the 3000 ms/,
    );
    expect(warnings[1]).toMatch(/^ecp grade: warning: dennis: a slow-reader timeout of 2000 ms/);
  });

  it('lets --limits override the commands, and names the first three of a long list', () => {
    const rows = ['a', 'b', 'c', 'd', 'e'].map((name, index) => server(index + 1, name, flags(5000)));
    const [warning] = shortSlowReaderTimeoutWarnings(rows, { slowReaderTimeoutMs: 500 });
    expect(warning).toMatch(/^ecp grade: warning: a, b, c and 2 more: a slow-reader timeout of 500 ms/);
    expect(shortSlowReaderTimeoutWarnings(rows, {})).toEqual([]);
  });

  it('leaves clients out: they have no slow-reader timeout', () => {
    const client: Submission = { ...server(1, 'ada', 'client {url}'), kind: 'client' };
    expect(shortSlowReaderTimeoutWarnings([client], { slowReaderTimeoutMs: 500 })).toEqual([]);
  });
});
