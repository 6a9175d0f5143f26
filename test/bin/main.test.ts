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
  for (const command of ['server', 'client', 'conformance', 'bench', 'grade']) {
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
