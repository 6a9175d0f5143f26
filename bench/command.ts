/**
 * `ecp bench`: the broadcast benchmark, and `ecp bench compare A.json B.json`.
 * Exit codes: 0 done, 1 the bench could not run (server unreachable, join refused), 2 invalid options.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import {
  addTargetOptions,
  type TargetArgs,
  type TargetSpec,
  TargetStartError,
  targetSpecFrom,
} from '../server-under-test/index.ts';
import { INSECURE_WARNING } from '../transport/index.ts';
import {
  type BenchHooks,
  DEFAULT_CONFIG,
  parseSweep,
  resolveConfig,
  runBench,
  runSweep,
} from './bench-runner.ts';
import { sweepChartSvg } from './chart.ts';
import { asBenchReport, compareReports, formatComparison } from './compare.ts';
import { progressHooks } from './progress.ts';
import { formatMarkdown, formatSweepMarkdown, formatSweepText, formatText } from './report-format.ts';
import type { BenchConfig } from './report-schema.ts';

const EXIT_FAILED = 1;
const EXIT_INVALID_OPTIONS = 2;

interface RunArgs extends TargetArgs {
  clients: number;
  senders: number | undefined;
  rate: number;
  'in-flight': number;
  size: number;
  duration: number;
  warmup: number;
  runs: number;
  workers: number;
  verify: boolean;
  'sample-every': number;
  'connect-concurrency': number;
  'key-pool': number;
  drain: number;
  json: string | undefined;
  md: string | undefined;
  sweep: string | undefined;
  chart: string | undefined;
  label: string | undefined;
  quiet: boolean;
}

/**
 * Set by `ecp bench` itself, not by its default command: yargs prints the usage of both when both
 * have one, and a subcommand's (compare) replaces it.
 */
const USAGE =
  '$0 bench [options]\n\nBroadcast benchmark: N clients join the room, S of them send real v1 sealed messages, and\n' +
  'every delivery is counted per recipient (losses, duplicates, reordering) and timed from its\n' +
  'scheduled send time. Targets the embedded reference server unless --target or --spawn is given;\n' +
  'over any transport (--transport, or the --target URL).';

function runBuilder(yargs: Argv): Argv<RunArgs> {
  return addTargetOptions(yargs)
    .options({
      clients: {
        type: 'number',
        default: DEFAULT_CONFIG.clients,
        describe: 'Clients in the room (all receive)',
      },
      senders: {
        type: 'number',
        describe: `Clients that also send [default: min(clients, ${DEFAULT_CONFIG.senders})]`,
      },
      rate: {
        type: 'number',
        default: 0,
        describe: 'Messages/s in total, paced evenly (open loop); 0: closed-loop maximum',
      },
      'in-flight': {
        type: 'number',
        default: DEFAULT_CONFIG.inFlight,
        describe: 'Closed loop: messages per sender awaiting its echo',
      },
      size: { type: 'number', default: DEFAULT_CONFIG.size, describe: 'Plaintext bytes per message' },
      duration: {
        type: 'number',
        default: DEFAULT_CONFIG.durationSeconds,
        describe: 'Measurement window, seconds',
      },
      warmup: {
        type: 'number',
        default: DEFAULT_CONFIG.warmupSeconds,
        describe: 'Warm-up before the window, seconds',
      },
      runs: { type: 'number', default: 1, describe: 'Repeat K times: median and spread' },
      workers: { type: 'number', default: DEFAULT_CONFIG.workers, describe: 'Load worker threads' },
      verify: { type: 'boolean', default: false, describe: 'Decrypt and check every delivery (slower)' },
      'sample-every': {
        type: 'number',
        default: DEFAULT_CONFIG.sampleEvery,
        describe: 'Otherwise check one delivery in N',
      },
      'connect-concurrency': {
        type: 'number',
        default: DEFAULT_CONFIG.connectConcurrency,
        describe: 'Joins in progress at once',
      },
      'key-pool': {
        type: 'number',
        default: DEFAULT_CONFIG.keyPoolSize,
        describe: 'RSA key pairs shared by the clients',
      },
      drain: {
        type: 'number',
        default: DEFAULT_CONFIG.drainSeconds,
        describe: 'After the window, wait up to this long for deliveries, seconds',
      },
      json: { type: 'string', describe: 'Write the report as JSON (schema ecp-bench/1)' },
      md: { type: 'string', describe: 'Write the report as Markdown' },
      sweep: { type: 'string', describe: 'Run once per value, e.g. clients=10,100,500,1000' },
      chart: {
        type: 'string',
        describe: 'Sweep chart (SVG) path [default: beside --json or --md, else bench-results/]',
      },
      label: { type: 'string', describe: 'A name for this report (e.g. the server build)' },
      quiet: { type: 'boolean', default: false, describe: 'No progress output' },
    })
    .example('$0 bench --clients 100 --duration 10 --runs 5', 'closed-loop maximum, median of 5 runs')
    .example('$0 bench --rate 5000 --json a.json', 'open loop, 5,000 messages/s (500,000 deliveries/s)')
    .example('$0 bench --sweep clients=10,100,500,1000 --md sweep.md', 'a table and an SVG chart')
    .example('$0 bench --target 127.0.0.1:8888 --password secret123', 'a server already running')
    .example('$0 bench --transport ws --clients 100', 'the embedded server over WebSocket')
    .example('$0 bench --target wss://chat.example.org/ecp --ca ca.pem', 'a server over WebSocket with TLS')
    .fail(failWithUsage('ecp bench')) as unknown as Argv<RunArgs>;
}

/** yargs' own errors (unknown option, wrong type) exit 2 like every invalid option. */
function failWithUsage(command: string) {
  return (message: string, error: Error | undefined): void => {
    if (error && !message) throw error;
    console.error(`${command}: ${message ?? error?.message}\nSee: ${command} --help`);
    process.exit(EXIT_INVALID_OPTIONS);
  };
}

function configOf(args: RunArgs): Partial<BenchConfig> {
  return {
    clients: args.clients,
    senders: args.senders,
    rate: args.rate,
    inFlight: args['in-flight'],
    size: args.size,
    durationSeconds: args.duration,
    warmupSeconds: args.warmup,
    runs: args.runs,
    workers: args.workers,
    verify: args.verify,
    sampleEvery: args['sample-every'],
    connectConcurrency: args['connect-concurrency'],
    keyPoolSize: args['key-pool'],
    drainSeconds: args.drain,
  };
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

async function runHandler(args: RunArgs): Promise<void> {
  let spec: TargetSpec;
  let sweep: ReturnType<typeof parseSweep> | undefined;
  let config: Partial<BenchConfig>;
  try {
    spec = targetSpecFrom(args);
    if (args.insecure) console.error(`ecp bench: ${INSECURE_WARNING}`);
    config = configOf(args);
    resolveConfig(config);
    sweep = args.sweep ? parseSweep(args.sweep) : undefined;
  } catch (error) {
    console.error(`ecp bench: ${(error as Error).message}`);
    process.exit(EXIT_INVALID_OPTIONS);
  }
  const progress = progressHooks(process.stderr, args.quiet);
  const hooks: BenchHooks = progress;
  const label = args.label ?? null;
  try {
    if (sweep) {
      const report = await runSweep(spec, config, sweep.parameter, sweep.values, hooks, label);
      progress.stop();
      const chartPath =
        args.chart ??
        (args.json ?? args.md)?.replace(/\.(json|md)$/i, '.svg') ??
        `bench-results/sweep-${sweep.parameter}.svg`;
      write(chartPath, await sweepChartSvg(report));
      process.stdout.write(formatSweepText(report));
      if (args.json) write(args.json, `${JSON.stringify(report, null, 2)}\n`);
      if (args.md) write(args.md, formatSweepMarkdown(report, relativeTo(args.md, chartPath)));
      process.stdout.write(`chart: ${chartPath}\n`);
    } else {
      const report = await runBench(spec, config, hooks, label);
      progress.stop();
      process.stdout.write(formatText(report));
      if (args.json) write(args.json, `${JSON.stringify(report, null, 2)}\n`);
      if (args.md) write(args.md, formatMarkdown(report));
    }
  } catch (error) {
    progress.stop();
    console.error(`ecp bench: ${(error as Error).message}`);
    if (error instanceof TargetStartError && error.output) console.error(error.output);
    process.exitCode = EXIT_FAILED;
  }
}

/** The chart's path as the Markdown file should link it. */
function relativeTo(markdownPath: string, chartPath: string): string {
  const base = dirname(markdownPath);
  return base === '.' || !chartPath.startsWith(`${base}/`) ? chartPath : chartPath.slice(base.length + 1);
}

interface CompareArgs {
  a: string;
  b: string;
  alpha: number;
  'min-change': number;
}

const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <a> <b>',
  describe: 'Compare two bench reports (JSON) with a significance test',
  builder: (yargs) =>
    yargs
      .positional('a', { type: 'string', demandOption: true, describe: 'Baseline report (JSON)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'Report to compare with it (JSON)' })
      .option('alpha', {
        type: 'number',
        default: 0.05,
        describe: 'Significance level',
      })
      .option('min-change', {
        type: 'number',
        default: 0.01,
        describe: 'Smallest relative change of the medians called better or worse',
      })
      .fail(failWithUsage('ecp bench compare')) as unknown as Argv<CompareArgs>,
  handler: (args) => {
    try {
      if (!(args.alpha > 0 && args.alpha < 1))
        throw new RangeError(`--alpha must be between 0 and 1, got ${args.alpha}`);
      if (!(args['min-change'] >= 0))
        throw new RangeError(`--min-change must be 0 or more, got ${args['min-change']}`);
      const a = asBenchReport(JSON.parse(readFileSync(args.a, 'utf8')), args.a);
      const b = asBenchReport(JSON.parse(readFileSync(args.b, 'utf8')), args.b);
      const options = { alpha: args.alpha, minChange: args['min-change'] };
      process.stdout.write(formatComparison(a, b, compareReports(a, b, options), options));
    } catch (error) {
      console.error(`ecp bench compare: ${(error as Error).message}`);
      process.exitCode = EXIT_INVALID_OPTIONS;
    }
  },
};

interface HttpArgs {
  clients: number;
  connections: number;
  rate: number;
  'get-connections': number;
  duration: number;
  runs: number;
  drain: number;
  'admin-url': string | undefined;
  'token-file': string | undefined;
  target: string | undefined;
  password: string | undefined;
  'metrics-url': string | undefined;
  'page-url': string | undefined;
  json: string | undefined;
  md: string | undefined;
  label: string | undefined;
  quiet: boolean;
}

const httpCommand: CommandModule<object, HttpArgs> = {
  command: 'http',
  describe: "The HTTP side under autocannon: the admin API's announce, GET /metrics and the web page",
  builder: (yargs) =>
    yargs
      .usage(
        '$0 bench http [options]\n\nautocannon drives POST /announce on the admin API while ECP clients in the room count every\n' +
          "notice delivered, and GETs /metrics and the web page at the same time. Starts this kit's reference\n" +
          'server in a process of its own unless --admin-url names a running one.',
      )
      .options({
        clients: { type: 'number', default: 20, describe: 'ECP clients in the room, each counting notices' },
        connections: { type: 'number', default: 10, describe: 'autocannon connections to POST /announce' },
        rate: {
          type: 'number',
          default: 0,
          describe: 'Announcements/s in total (open loop); 0: closed loop',
        },
        'get-connections': { type: 'number', default: 2, describe: 'autocannon connections to each GET' },
        duration: { type: 'number', default: 5, describe: 'Measurement window, seconds' },
        runs: { type: 'number', default: 1, describe: 'Repeat K times: median and spread' },
        drain: {
          type: 'number',
          default: 3,
          describe: 'After the window, wait up to this long for notices, seconds',
        },
        'admin-url': { type: 'string', describe: 'A running server: its admin API (http://HOST:PORT)' },
        'token-file': {
          type: 'string',
          describe: 'With --admin-url: the token file [default: $ECP_ADMIN_TOKEN]',
        },
        target: { type: 'string', describe: 'With --admin-url: the ECP URL the clients join' },
        password: {
          type: 'string',
          describe: 'With --admin-url: the server password [default: $ECP_PASSWORD]',
        },
        'metrics-url': {
          type: 'string',
          describe: 'With --admin-url: GET this under load (http://HOST:PORT/metrics)',
        },
        'page-url': { type: 'string', describe: "With --admin-url: GET the web client's page under load" },
        json: { type: 'string', describe: 'Write the report as JSON (schema ecp-bench/1, kind http)' },
        md: { type: 'string', describe: 'Write the report as Markdown' },
        label: { type: 'string', describe: 'A name for this report' },
        quiet: { type: 'boolean', default: false, describe: 'No progress output' },
      })
      .example('$0 bench http --runs 3 --md http.md', 'the reference server, median of 3 runs')
      .example(
        'ECP_ADMIN_TOKEN=... $0 bench http --admin-url http://127.0.0.1:9200 --target tcp://127.0.0.1:8888 --password secret123',
        'a server already running',
      )
      .strict()
      .fail(failWithUsage('ecp bench http')) as unknown as Argv<HttpArgs>,
  handler: async (args) => {
    const { runHttpCommand } = await import('./http-command.ts');
    process.exitCode = await runHttpCommand(args);
  },
};

export type { HttpArgs };

const runCommand: CommandModule<object, RunArgs> = {
  command: '$0',
  describe: 'Run the broadcast benchmark',
  builder: runBuilder,
  handler: runHandler,
};

export const benchCommand: CommandModule = {
  command: 'bench',
  describe: 'Broadcast benchmark of any ECP server (and `bench compare A.json B.json`, `bench http`)',
  builder: (yargs) => yargs.usage(USAGE).command(compareCommand).command(httpCommand).command(runCommand),
  handler: () => {},
};
