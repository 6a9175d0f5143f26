/**
 * What the HTTP side costs the room, side by side in one run: the reference server (one process,
 * with a WebSocket listener, metrics and the admin API) measured by `ecp bench` (closed loop) alone,
 * and again while autocannon drives POST /announce and GETs /metrics and the web page, the two
 * alternating every round (quiet, loaded; then loaded, quiet; ...), so the machine's noise falls on
 * both. Prints and writes the medians: chat deliveries/s without and with the HTTP load, and what
 * the HTTP side did meanwhile.
 *
 *   npx tsx bench/scripts/http-side.ts [--rounds 3] [--clients 50] [--duration 5] [--connections 10]
 *                                      [--out docs/bench]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from 'simple-statistics';
import { findFreePort } from '../../transport/index.ts';
import { runBench } from '../bench-runner.ts';
import { startHttpLoad } from '../http-load.ts';
import { waitUntilServing } from '../http-target.ts';
import { formatNumber } from '../report-format.ts';
import { finish, PASSWORD, scriptOptions, spawned, startServer } from './harness.ts';

const options = scriptOptions(
  import.meta.filename,
  "The room's chat throughput with and without HTTP load (admin announce, GET /metrics, GET of the page), one server process.",
  {
    rounds: { type: 'number', default: 3, min: 1, whole: true, describe: 'Runs of each kind' },
    clients: { type: 'number', default: 50, min: 1, whole: true, describe: 'Bench clients in the room' },
    duration: { type: 'number', default: 5, min: 1, describe: 'Seconds of each measurement window' },
    connections: {
      type: 'number',
      default: 10,
      min: 1,
      whole: true,
      describe: 'autocannon connections to POST /announce',
    },
    rate: {
      type: 'number',
      default: 0,
      min: 0,
      describe: 'Announcements/s in total (0: as fast as they go)',
    },
    out: { type: 'string', default: 'docs/bench', describe: 'Folder for http-side.md and http-side.json' },
  },
);

const directory = mkdtempSync(join(tmpdir(), 'ecp-http-side-'));
const token = randomBytes(24).toString('base64url');
writeFileSync(join(directory, 'admin.token'), token);
const [wsPort, adminPort, metricsPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
const server = await startServer(
  spawned(
    'node bin/ecp.js server --password {password} --log-level warn --listen tcp://127.0.0.1:{port}',
    `--listen ws://127.0.0.1:${wsPort}/ecp --metrics-port ${metricsPort}`,
    `--admin-port ${adminPort} --admin-token-file ${join(directory, 'admin.token')}`,
  ),
);
await waitUntilServing([wsPort, metricsPort, adminPort]);
const http = {
  adminUrl: `http://127.0.0.1:${adminPort}`,
  token,
  metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
};
const page = await fetch(`http://127.0.0.1:${wsPort}/`);
await page.arrayBuffer();
const pageUrl =
  page.status === 200 && (page.headers.get('content-type') ?? '').includes('text/html')
    ? `http://127.0.0.1:${wsPort}/`
    : undefined;

const chat: Record<'quiet' | 'loaded', number[]> = { quiet: [], loaded: [] };
const lost: Record<'quiet' | 'loaded', number[]> = { quiet: [], loaded: [] };
/** Chat deliveries per second of server CPU: under contention from other work, steadier than deliveries/s. */
const perCore: Record<'quiet' | 'loaded', number[]> = { quiet: [], loaded: [] };
const serverCores: Record<'quiet' | 'loaded', number[]> = { quiet: [], loaded: [] };
const httpFigures = {
  announcesPerSecond: [] as number[],
  announceP99Ms: [] as number[],
  metricsPerSecond: [] as number[],
  pagePerSecond: [] as number[],
};
try {
  for (let round = 0; round < options.rounds; round++) {
    const order: ('quiet' | 'loaded')[] = round % 2 === 0 ? ['quiet', 'loaded'] : ['loaded', 'quiet'];
    for (const kind of order) {
      // The HTTP load runs through the whole bench (joins, warm-up, window, drain) and stops with it.
      const load =
        kind === 'loaded'
          ? startHttpLoad(
              http,
              pageUrl,
              {
                connections: options.connections,
                getConnections: 2,
                rate: options.rate,
                durationSeconds: 3600,
              },
              `http-side ${round} `,
            )
          : undefined;
      const report = await runBench(
        { kind: 'running', endpoint: server.target.endpoint, password: PASSWORD },
        { clients: options.clients, durationSeconds: options.duration, runs: 1 },
        {},
        `reference server, ${kind}`,
      );
      load?.stop();
      const run = report.runs[0]!;
      chat[kind].push(run.deliveries.deliveriesPerSecond);
      lost[kind].push(run.deliveries.lost);
      if (run.server.cpuCores) {
        perCore[kind].push(run.deliveries.deliveriesPerSecond / run.server.cpuCores);
        serverCores[kind].push(run.server.cpuCores);
      }
      let note = '';
      if (load !== undefined) {
        const [announce, metrics, pageResult] = await load.results;
        httpFigures.announcesPerSecond.push(announce['2xx'] / announce.duration);
        httpFigures.announceP99Ms.push(announce.latency.p99);
        if (metrics) httpFigures.metricsPerSecond.push(metrics['2xx'] / metrics.duration);
        if (pageResult) httpFigures.pagePerSecond.push(pageResult['2xx'] / pageResult.duration);
        note = `; announce ${formatNumber(announce['2xx'] / announce.duration, 0)} req/s (p99 ${announce.latency.p99} ms)`;
      }
      process.stderr.write(
        `round ${round + 1}/${options.rounds} ${kind}: ${formatNumber(run.deliveries.deliveriesPerSecond, 0)} chat deliveries/s, lost ${run.deliveries.lost}, server ${run.server.cpuCores ?? '?'} cores${note}\n`,
      );
    }
  }
} finally {
  await server.stop();
  rmSync(directory, { recursive: true, force: true });
}

const med = (values: number[]) => (values.length === 0 ? Number.NaN : median(values));
const runs = (values: number[]) => values.map((v) => formatNumber(v, 0)).join(', ');
const ratio = (kind: 'quiet' | 'loaded', values: Record<'quiet' | 'loaded', number[]>) =>
  (med(values[kind]) / med(values.quiet)).toFixed(2);
const table = [
  '| HTTP load during the chat bench | chat deliveries/s (median) | runs | ratio | chat deliveries per server CPU second (median) | ratio | server CPU cores (median) | lost (median) | announce req/s | announce p99 ms | GET /metrics req/s | GET page req/s |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  `| none | ${formatNumber(med(chat.quiet), 0)} | ${runs(chat.quiet)} | 1.00 | ${formatNumber(med(perCore.quiet), 0)} | 1.00 | ${formatNumber(med(serverCores.quiet), 2)} | ${formatNumber(med(lost.quiet), 0)} | - | - | - | - |`,
  `| announce + GETs | ${formatNumber(med(chat.loaded), 0)} | ${runs(chat.loaded)} | ${ratio('loaded', chat)} | ${formatNumber(med(perCore.loaded), 0)} | ${ratio('loaded', perCore)} | ${formatNumber(med(serverCores.loaded), 2)} | ${formatNumber(med(lost.loaded), 0)} | ${formatNumber(med(httpFigures.announcesPerSecond), 0)} | ${formatNumber(med(httpFigures.announceP99Ms), 0)} | ${formatNumber(med(httpFigures.metricsPerSecond), 0)} | ${pageUrl === undefined ? 'not served' : formatNumber(med(httpFigures.pagePerSecond), 0)} |`,
].join('\n');
const setup = `${options.clients} chat clients (closed loop), ${options.duration} s windows, ${options.rounds} rounds (order alternated), POST /announce over ${options.connections} connections (${options.rate > 0 ? `${options.rate}/s` : 'closed loop'}), GET /metrics and the page over 2 each; one server process`;
process.stdout.write(`\n${setup}\n\n${table}\n`);
mkdirSync(options.out, { recursive: true });
writeFileSync(
  join(options.out, 'http-side.md'),
  `# The room's chat throughput with and without HTTP load\n\n${setup}.\n\n${table}\n`,
);
writeFileSync(
  join(options.out, 'http-side.json'),
  `${JSON.stringify({ options: { rounds: options.rounds, clients: options.clients, duration: options.duration, connections: options.connections, rate: options.rate }, pageServed: pageUrl !== undefined, chat, lost, deliveriesPerServerCpuSecond: perCore, serverCpuCores: serverCores, http: httpFigures }, null, 2)}\n`,
);
await finish(chat.quiet.length > 0 && chat.loaded.length > 0);
