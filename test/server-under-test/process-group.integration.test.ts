import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { groupAlive } from '../../server-under-test/process-group.ts';

describe('groupAlive', () => {
  it('is true while a member runs, false once the group is gone', async () => {
    const child = spawn('sleep 30', { shell: true, detached: true, stdio: 'ignore' });
    const group = child.pid!;
    expect(groupAlive(group)).toBe(true);
    process.kill(-group, 'SIGKILL');
    await once(child, 'exit');
    await expect.poll(() => groupAlive(group), { timeout: 5000 }).toBe(false);
  });

  // A group left with nothing but a zombie, as when init has not yet reaped a member whose parent
  // died: here the zombie's parent (perl) moved to a group of its own and never reaps it, so the
  // zombie stays for as long as the test needs. The signal still reaches the group; nothing in it runs.
  it.skipIf(!existsSync('/proc'))('is false for a group whose only member is a zombie', async () => {
    const leaveZombie =
      'perl -e \'if (fork() == 0) { exit 0 } setpgrp(0, 0); $| = 1; print "$$\\n"; sleep 30\' & exit 0';
    const shell = spawn(leaveZombie, { shell: true, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const group = shell.pid!;
    const shellExited = once(shell, 'exit');
    const [line] = (await once(shell.stdout!, 'data')) as [Buffer];
    const parent = Number(line.toString().trim());
    try {
      await shellExited;
      expect(() => process.kill(-group, 0)).not.toThrow();
      expect(groupAlive(group)).toBe(false);
    } finally {
      process.kill(parent, 'SIGKILL');
    }
  });
});
