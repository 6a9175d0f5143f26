/**
 * Two servers compared fairly on a shared machine: their runs interleave (A, B, B, A, A, B, ...),
 * so a burst of load from elsewhere falls on both, not on whichever ran second. Writes one report
 * per server with all its runs (the input of `ecp bench compare`) and prints the comparison.
 *
 *   npx tsx bench/scripts/ab.ts --a "node ../old/bin/ecp.js server --port {port} --password secret123 --log-level warn" \
 *     --b "node bin/ecp.js server --port {port} --password secret123 --log-level warn" \
 *     [--rounds 5] [--clients 100] [--duration 5] [--out-a a.json] [--out-b b.json]
 *     [--target ws://127.0.0.1:{port}/ecp]
 *
 * `--target` is where both started servers are reached (a URL with `{port}`; default plain TCP),
 * so the two can be compared over TLS or WebSocket as well.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseEndpoint } from '../../transport/index.ts';
import { runBench } from '../bench-runner.ts';
import { compareReports, formatComparison } from '../compare.ts';
import type { BenchReport } from '../report-schema.ts';
import { summarizeRuns } from '../summary.ts';
import { finish, scriptOptions, spawned } from './harness.ts';

const values = scriptOptions(
  import.meta.filename,
  'Two servers compared fairly: their bench runs interleave (A, B, B, A, ...), one report per server and the comparison.',
  {
    a: {
      type: 'string',
      demandOption: true,
      describe: "Command that starts server A ('{port}', '{password}')",
    },
    b: {
      type: 'string',
      demandOption: true,
      describe: "Command that starts server B ('{port}', '{password}')",
    },
    target: {
      type: 'string',
      describe: 'Where both started servers are reached: a URL with {port} (default plain TCP)',
    },
    'label-a': { type: 'string', default: 'A', describe: "A's name in the reports" },
    'label-b': { type: 'string', default: 'B', describe: "B's name in the reports" },
    rounds: { type: 'number', default: 5, min: 1, whole: true, describe: 'Runs of each server' },
    clients: { type: 'number', default: 100, min: 1, whole: true, describe: 'Bench clients' },
    duration: { type: 'number', default: 5, min: 1, describe: 'Seconds of each measurement window' },
    'out-a': { type: 'string', default: 'bench-results/a.json', describe: "A's report (all its runs)" },
    'out-b': { type: 'string', default: 'bench-results/b.json', describe: "B's report (all its runs)" },
  },
);
if (values.target !== undefined && !values.target.includes('{port}')) {
  console.error('bench/scripts/ab.ts: --target is the URL of the started servers and must contain {port}');
  process.exit(2);
}
const endpoint =
  values.target === undefined ? undefined : parseEndpoint(values.target.replaceAll('{port}', '0'));
const sides = [
  { command: values.a, label: values['label-a'], reports: [] as BenchReport[] },
  { command: values.b, label: values['label-b'], reports: [] as BenchReport[] },
];
const rounds = values.rounds;
for (let round = 0; round < rounds; round++) {
  // ABBA order: each side runs first as often as second.
  const order = round % 2 === 0 ? sides : [...sides].reverse();
  for (const side of order) {
    const report = await runBench(
      { ...spawned(side.command), ...(endpoint ? { endpoint } : {}) },
      { clients: values.clients, durationSeconds: values.duration, runs: 1 },
      {},
      side.label,
    );
    side.reports.push(report);
    const run = report.runs[0]!;
    process.stderr.write(
      `round ${round + 1}/${rounds} ${side.label}: ${Math.round(run.deliveries.deliveriesPerSecond)} deliveries/s\n`,
    );
  }
}

/** One report holding every run of a side, summarised afresh. */
function merged(reports: BenchReport[]): BenchReport {
  const runs = reports.flatMap((report) => report.runs).map((run, index) => ({ ...run, run: index + 1 }));
  return {
    ...reports[0]!,
    config: { ...reports[0]!.config, runs: runs.length },
    runs,
    summary: summarizeRuns(runs),
  };
}

const [a, b] = sides.map((side) => merged(side.reports)) as [BenchReport, BenchReport];
for (const out of [values['out-a'], values['out-b']]) mkdirSync(dirname(out), { recursive: true });
writeFileSync(values['out-a'], `${JSON.stringify(a, null, 2)}\n`);
writeFileSync(values['out-b'], `${JSON.stringify(b, null, 2)}\n`);
const options = { alpha: 0.05, minChange: 0.01 };
process.stdout.write(formatComparison(a, b, compareReports(a, b, options), options));
await finish();
