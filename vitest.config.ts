import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Two projects, told apart by name so each test stays beside its twin:
 * - integration (`*.integration.test.ts`): a test that starts processes (the `ecp` CLI, spawned
 *   servers, the lab servers, the grader's sandboxes, a pseudo-terminal) or runs whole conformance
 *   suites or benches. Seconds to a minute a file. `npm run test:integration`.
 * - unit (every other `*.test.ts`): in this process, loopback sockets included, and quick: the
 *   developer's loop, under a minute in all. `npm run test:unit`.
 * `npm test` runs both; `npx vitest run FILE` runs any one file whatever its project.
 */
const INTEGRATION = 'test/**/*.integration.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [INTEGRATION],
          // A unit file mostly waits (timers, loopback sockets), so one worker per core rather than
          // vitest's default of one fewer, which on two cores runs the files one after another.
          maxWorkers: availableParallelism(),
          // Projects with different worker counts need their own group (vitest runs groups in turn).
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'integration', include: [INTEGRATION], sequence: { groupOrder: 1 } } },
    ],
  },
});
