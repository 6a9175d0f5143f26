/**
 * Broadcast throughput of the reference server over each transport, side by side in one run: one
 * server process listening on tcp://, tls:// and ws:// at once (a throwaway certificate), and the
 * bench against each in turn, rotating the order every round, so the machine's noise falls on all
 * of them alike. Prints and writes the medians and the ratios to TCP.
 *
 *   npx tsx bench/scripts/transports.ts [--rounds 5] [--clients 100] [--duration 5] [--out docs/bench]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from 'simple-statistics';
import { makeDevCertificate } from '../../server-under-test/index.ts';
import { type Endpoint, findFreePort, parseEndpoint } from '../../transport/index.ts';
import { runBench } from '../bench-runner.ts';
import { formatNumber } from '../report-format.ts';
import { finish, PASSWORD, scriptOptions, spawned, startServer } from './harness.ts';

const values = scriptOptions(
  import.meta.filename,
  'Broadcast throughput of the reference server over tcp://, tls:// and ws://, one server process listening on all three.',
  {
    rounds: { type: 'number', default: 5, min: 1, whole: true, describe: 'Runs over each transport' },
    clients: { type: 'number', default: 100, min: 1, whole: true, describe: 'Bench clients' },
    duration: { type: 'number', default: 5, min: 1, describe: 'Seconds of each measurement window' },
    out: { type: 'string', default: 'docs/bench', describe: 'Folder for transports.md and transports.json' },
  },
);
const { rounds, clients, duration } = values;

const directory = mkdtempSync(join(tmpdir(), 'ecp-transports-'));
const certificate = await makeDevCertificate();
writeFileSync(join(directory, 'cert.pem'), certificate.cert);
writeFileSync(join(directory, 'key.pem'), certificate.key);
const [tlsPort, wsPort] = [await findFreePort(), await findFreePort()];
// The kit picks the TCP port ({port}) and waits for it; the other listeners are up by then (one process).
const server = await startServer(
  spawned(
    'node bin/ecp.js server --password {password} --log-level warn',
    `--tls-cert ${join(directory, 'cert.pem')} --tls-key ${join(directory, 'key.pem')}`,
    '--listen tcp://127.0.0.1:{port}',
    `--listen tls://127.0.0.1:${tlsPort}`,
    `--listen ws://127.0.0.1:${wsPort}/ecp`,
  ),
);
const endpoints: Record<string, Endpoint> = {
  tcp: server.target.endpoint,
  tls: parseEndpoint(`tls://127.0.0.1:${tlsPort}`),
  ws: parseEndpoint(`ws://127.0.0.1:${wsPort}/ecp`),
};

const names = Object.keys(endpoints);
const results: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
/** Deliveries per second of server CPU: what the server could do if the load generator kept up. */
const perCore: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
try {
  for (let round = 0; round < rounds; round++) {
    // Rotate the order, so no transport always runs first (or last) in a round.
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) {
      const report = await runBench(
        {
          kind: 'running',
          endpoint: endpoints[name]!,
          password: PASSWORD,
          tls: { ca: certificate.cert },
        },
        { clients, durationSeconds: duration, runs: 1 },
        {},
        `reference server over ${name}`,
      );
      const run = report.runs[0]!;
      results[name]!.push(run.deliveries.deliveriesPerSecond);
      if (run.server.cpuCores) perCore[name]!.push(run.deliveries.deliveriesPerSecond / run.server.cpuCores);
      process.stderr.write(
        `round ${round + 1}/${rounds} ${name}: ${formatNumber(run.deliveries.deliveriesPerSecond, 0)} deliveries/s, lost ${run.deliveries.lost}\n`,
      );
    }
  }
} finally {
  await server.stop();
  rmSync(directory, { recursive: true, force: true });
}

const tcp = median(results.tcp!);
const tcpPerCore = perCore.tcp!.length > 0 ? median(perCore.tcp!) : Number.NaN;
const lines = [
  `| transport | median deliveries/s | runs | ratio to TCP | deliveries per server CPU second (median) | ratio to TCP |`,
  `| --- | ---: | --- | ---: | ---: | ---: |`,
  ...names.map((name) => {
    const figures = results[name]!;
    const efficiency = perCore[name]!.length > 0 ? median(perCore[name]!) : Number.NaN;
    return `| ${name} | ${formatNumber(median(figures), 0)} | ${figures.map((v) => formatNumber(v, 0)).join(', ')} | ${(median(figures) / tcp).toFixed(2)} | ${formatNumber(efficiency, 0)} | ${(efficiency / tcpPerCore).toFixed(2)} |`;
  }),
];
const table = `${lines.join('\n')}\n`;
process.stdout.write(
  `\n${clients} clients, ${duration} s windows, ${rounds} rounds, one server process\n\n${table}`,
);
mkdirSync(values.out, { recursive: true });
writeFileSync(
  join(values.out, 'transports.md'),
  `# Throughput by transport\n\n${clients} clients, ${duration} s windows, ${rounds} rounds (order rotated each round), one server process listening on all three.\n\n${table}`,
);
writeFileSync(
  join(values.out, 'transports.json'),
  `${JSON.stringify({ clients, duration, rounds, results, deliveriesPerServerCpuSecond: perCore }, null, 2)}\n`,
);
await finish();
