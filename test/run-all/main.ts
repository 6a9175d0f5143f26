/**
 * `npm test`: every check of the kit, each run to its end, then one summary. Exits 1 if any
 * failed. The steps are npm scripts, in this order:
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatSummary, runSteps } from './run-steps.ts';

const STEPS = [
  'typecheck',
  'lint',
  'test:unit',
  'test:integration',
  'test:conformance',
  'test:client-conformance',
  'test:package',
  'test:docs',
  'test:newcomer',
];

const root = fileURLToPath(new URL('../..', import.meta.url));
const scripts: Record<string, string> = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).scripts ?? {};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Interrupted, the running step is stopped and the rest are not started; the summary still prints.
const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => interrupted.abort());

const results = await runSteps(
  STEPS.map((name) =>
    name in scripts
      ? { name, command: npm, args: ['run', '--silent', name] }
      : { name, skip: 'no such npm script' },
  ),
  { cwd: root, log: (line) => console.log(line), signal: interrupted.signal },
);
console.log(`\n${formatSummary(results)}`);
process.exitCode = results.some((result) => result.status === 'failed') ? 1 : 0;
