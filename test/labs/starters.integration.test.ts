/**
 * Each starter runs as the student contract says (--port, --password, the limit flags, SIGTERM)
 * and fails lab 1 until its TODOs are done, saying which TODO it reached.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/runner.ts';
import { findFreePort } from '../../transport/index.ts';
import { LANGUAGES, LIMIT_FLAGS, LIMITS, ROOT } from './servers.ts';

for (const language of LANGUAGES) {
  describe.skipIf(language.missing !== undefined)(
    `the ${language.name} starter${language.missing ? ` (${language.missing})` : ''}`,
    () => {
      it('listens on --port, takes --password and the limit flags, and exits 0 on SIGTERM within 2 s', async () => {
        const port = await findFreePort();
        const command = `exec ${language.command(language.starter)} --port ${port} --password 'pass word' ${LIMIT_FLAGS}`;
        const child = spawn(command, { shell: true, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        const listening = new Promise<void>((resolve, reject) => {
          const onData = (chunk: Buffer) => {
            output += chunk;
            if (output.includes(`listening on 127.0.0.1:${port}`)) resolve();
          };
          child.stdout.on('data', onData);
          child.stderr.on('data', onData);
          child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
        });
        await listening;
        const stoppedAt = Date.now();
        const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill('SIGTERM');
        expect(await exit).toBe(0);
        expect(Date.now() - stoppedAt).toBeLessThan(2000);
      }, 60_000);

      it('fails lab 1, and its output names the TODO it reached', async () => {
        const run = await runConformance({
          target: {
            kind: 'spawned',
            command: `${language.command(language.starter)} --port {port} --password {password} ${LIMIT_FLAGS}`,
            password: 'secret123',
          },
          lab: 1,
          onlyLab: true,
          limits: LIMITS,
          timeoutMs: 500,
        });
        expect(run.scenarios.length).toBeGreaterThan(5);
        const failed = run.scenarios.filter((result) => result.status === 'failed');
        expect(failed.length).toBeGreaterThan(run.scenarios.length / 2);
        const outputs = failed.flatMap((result) =>
          result.attachments.filter((item) => item.name === 'server-output.txt'),
        );
        expect(outputs.map((item) => item.text).join('\n')).toMatch(/not implemented yet.*TODO\(lab 1/);
      }, 120_000);
    },
  );
}
