/**
 * The starters, completed: each passes every lab that has scenarios, so each starter's layout is
 * one a student can finish.
 */
import { describe, expect, it } from 'vitest';
import { LABS } from '../../conformance/labs.ts';
import { runConformance } from '../../conformance/runner.ts';
import { LANGUAGES, LIMIT_FLAGS, LIMITS } from './servers.ts';

// The server labs over plain TCP (9 and 10, TLS and WebSocket, are optional and run on other
// transports; the client track checks clients).
const lastLab = Math.max(
  ...LABS.filter((lab) => lab.party === 'server' && !lab.bench && !lab.optional).map((lab) => lab.number),
);

for (const language of LANGUAGES) {
  describe.skipIf(language.missing !== undefined)(
    `the ${language.name} solution${language.missing ? ` (${language.missing})` : ''}`,
    () => {
      it(`passes labs 1 to ${lastLab}`, async () => {
        const target = {
          kind: 'spawned',
          command: `${language.command(language.solution)} --port {port} --password {password} ${LIMIT_FLAGS}`,
          password: 'secret123',
        } as const;
        const run = await runConformance({ target, lab: lastLab, limits: LIMITS });
        const labs = new Set(run.scenarios.map((result) => result.lab));
        expect([...labs].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
          Array.from({ length: lastLab }, (_, index) => index + 1),
        );
        const failed = run.scenarios.filter((result) => result.status !== 'passed');
        expect(failed.map((result) => `${result.name}: ${result.failure?.message}`)).toEqual([]);
      }, 240_000);
    },
  );
}
