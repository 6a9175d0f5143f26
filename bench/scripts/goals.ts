/**
 * The reference server's performance goals (docs/benchmarks.md), measured by `ecp bench` against
 * the server in its own process, so the generator's CPU and memory are not counted as the server's:
 *
 *   npx tsx bench/scripts/goals.ts [--out docs/bench] [--runs 5] [--no-sweep]
 *
 * Writes each report (JSON and Markdown), the sweep chart (SVG) and goals.md, and prints whether
 * each goal is met. Exit code 0 when every goal is met, 1 when one is missed, 2 for bad options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBench, runSweep } from '../bench-runner.ts';
import { sweepChartSvg } from '../chart.ts';
import { progressHooks } from '../progress.ts';
import { formatMarkdown, formatNumber, formatSweepMarkdown, formatText } from '../report-format.ts';
import type { BenchConfig, BenchReport } from '../report-schema.ts';
import { finish, REFERENCE_SERVER, scriptOptions, spawned } from './harness.ts';

const LABEL = 'reference server (own process)';

interface Goal {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

const options = scriptOptions(
  import.meta.filename,
  "The reference server's performance goals, measured against the server in its own process.",
  {
    out: { type: 'string', default: 'docs/bench', describe: 'Folder for the reports, charts and goals.md' },
    runs: { type: 'number', default: 5, min: 1, whole: true, describe: 'Runs of each bench (median)' },
    sweep: { type: 'boolean', default: true, describe: 'Also the sweeps over clients (--no-sweep: not)' },
  },
);

const spec = spawned(REFERENCE_SERVER, '--log-level', 'warn');
const progress = progressHooks(process.stderr);
mkdirSync(options.out, { recursive: true });

async function bench(name: string, config: Partial<BenchConfig>): Promise<BenchReport> {
  const report = await runBench(spec, config, progress, `${LABEL}: ${name}`);
  progress.stop();
  process.stdout.write(`\n${formatText(report)}`);
  writeFileSync(join(options.out, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(options.out, `${name}.md`), formatMarkdown(report));
  return report;
}

const common = { clients: 100, size: 128, warmupSeconds: 2, runs: options.runs };
const throughput = await bench('throughput-100', { ...common, rate: 0, durationSeconds: 10 });
const latency = await bench('latency-500k', { ...common, rate: 5000, durationSeconds: 10 });
const memory = await bench('memory-1000', {
  ...common,
  clients: 1000,
  rate: 500,
  durationSeconds: 5,
  runs: Math.min(3, options.runs),
});

const lostInEveryRun = (report: BenchReport) => report.runs.reduce((n, run) => n + run.deliveries.lost, 0);
const peakRss = Math.max(...memory.runs.map((run) => run.server.peakRssBytes ?? Number.POSITIVE_INFINITY));
const goals: Goal[] = [
  {
    name: 'throughput, 100 clients, 128-byte texts',
    target: '>= 1,000,000 deliveries/s, no loss',
    measured: `${formatNumber(throughput.summary.deliveriesPerSecond.median, 0)} deliveries/s (median; ${formatNumber(throughput.summary.deliveriesPerSecond.min, 0)}-${formatNumber(throughput.summary.deliveriesPerSecond.max, 0)}), ${lostInEveryRun(throughput)} lost`,
    met: throughput.summary.deliveriesPerSecond.median >= 1_000_000 && lostInEveryRun(throughput) === 0,
  },
  {
    name: 'latency at half that rate (open loop, 5,000 msg/s x 100 clients)',
    target: 'p99 <= 50 ms',
    measured: `p99 ${formatNumber(latency.summary.latencyP99Ms.median, 2)} ms (median; ${formatNumber(latency.summary.latencyP99Ms.min, 2)}-${formatNumber(latency.summary.latencyP99Ms.max, 2)}), ${lostInEveryRun(latency)} lost`,
    met: latency.summary.latencyP99Ms.median <= 50 && lostInEveryRun(latency) === 0,
  },
  {
    name: 'memory, 1,000 connected clients (500,000 deliveries/s)',
    target: 'server RSS < 300 MB',
    measured: `peak RSS ${formatNumber(peakRss / 1e6, 1)} MB (highest of ${memory.runs.length} runs), ${lostInEveryRun(memory)} lost`,
    met: peakRss < 300e6,
  },
  {
    name: 'handshakes, 100 clients joining 64 at a time',
    target: '>= 1,000 handshakes/s',
    measured: `${formatNumber(throughput.summary.handshakesPerSecond.median, 0)}/s (median; ${formatNumber(throughput.summary.handshakesPerSecond.min, 0)}-${formatNumber(throughput.summary.handshakesPerSecond.max, 0)})`,
    met: throughput.summary.handshakesPerSecond.median >= 1000,
  },
];

/** Deliveries/s and p99 latency against the number of clients: the most a closed loop gets, and
 * the latency of a fixed open-loop message rate (500 msg/s: 500,000 deliveries/s at 1,000 clients). */
async function sweep(name: string, rate: number, title: string): Promise<void> {
  const report = await runSweep(
    spec,
    { ...common, rate, runs: Math.min(3, options.runs), durationSeconds: 5 },
    'clients',
    [10, 100, 500, 1000],
    progress,
    `${LABEL}: ${title}`,
  );
  progress.stop();
  writeFileSync(join(options.out, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(options.out, `${name}.svg`), await sweepChartSvg(report));
  writeFileSync(join(options.out, `${name}.md`), formatSweepMarkdown(report, `${name}.svg`));
}

if (options.sweep) {
  await sweep('sweep-clients-closed-loop', 0, 'closed loop');
  await sweep('sweep-clients-open-loop', 500, 'open loop, 500 msg/s');
}

const table = [
  '| goal | target | measured | met |',
  '|---|---|---|---|',
  ...goals.map((g) => `| ${g.name} | ${g.target} | ${g.measured} | ${g.met ? 'yes' : 'no'} |`),
];
writeFileSync(
  join(options.out, 'goals.md'),
  `# Reference server goals\n\n${throughput.machine.cpuModel}, ${throughput.machine.cores} cores, Node ${throughput.machine.node}, ${throughput.createdAt}\n\n${table.join('\n')}\n`,
);
process.stdout.write(`\n${table.join('\n')}\n`);
await finish(goals.every((g) => g.met));
