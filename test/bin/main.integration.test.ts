import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ECP = fileURLToPath(new URL('../../bin/ecp.js', import.meta.url));

function ecp(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { status, stdout, stderr } = spawnSync(process.execPath, [ECP, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status, stdout, stderr };
}

describe('ecp COMMAND --help', () => {
  for (const command of ['server', 'client', 'conformance', 'bench', 'grade', 'admin']) {
    it(`${command}: prints its usage line once, first`, () => {
      const { status, stdout } = ecp(command, '--help');
      expect(status).toBe(0);
      const [first, ...rest] = stdout.split('\n');
      expect(first).toMatch(new RegExp(`^ecp ${command} \\S`));
      const head = rest.slice(
        0,
        rest.findIndex((line) => /^(Commands|Positionals|Options):/.test(line)),
      );
      expect(head.filter((line) => line.startsWith(`ecp ${command}`))).toEqual([]);
    });
  }
});

describe('ecp with a command it does not have', () => {
  it('exits 2, as for any bad argument, and says so in a line with where to look', () => {
    const { status, stdout, stderr } = ecp('frobnicate');
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual(['ecp: Unknown argument: frobnicate', 'See: ecp --help']);
  });

  it('suggests the command meant when it is close', () => {
    const { status, stderr } = ecp('conformanse');
    expect(status).toBe(2);
    expect(stderr).toContain('conformance');
  });
});

describe('a numeric option given something else', () => {
  const cases: [string[], string][] = [
    [['grade', 'roster.csv', '--jobs', 'four'], "ecp grade: --jobs takes a number, got 'four'"],
    [['bench', '--clients=lots'], "ecp bench: --clients takes a number, got 'lots'"],
    [['server', '--port', '80a'], "ecp server: --port takes a number, got '80a'"],
    [['conformance', '--timeout', '2s'], "ecp conformance: --timeout takes a number, got '2s'"],
    [['server', '--max-line-bytes', '1MiB'], "ecp server: --max-line-bytes takes a number, got '1MiB'"],
  ];
  for (const [args, line] of cases) {
    it(`${args.join(' ')}: exits 2 and echoes what was typed`, () => {
      const { status, stderr } = ecp(...args);
      expect(status).toBe(2);
      expect(stderr.split('\n')[0]).toBe(line);
      expect(stderr).not.toContain('NaN');
    });
  }
});
