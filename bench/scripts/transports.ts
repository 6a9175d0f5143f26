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
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import { findFreePort, makeDevCertificate } from '../../server-under-test/index.ts';
import { SpawnedServer } from '../../server-under-test/spawned-server.ts';
import { type Endpoint, parseEndpoint } from '../../transport/index.ts';
import { runBench } from '../bench-runner.ts';
import { formatNumber } from '../report-format.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    clients: { type: 'string', default: '100' },
    duration: { type: 'string', default: '5' },
    out: { type: 'string', default: 'docs/bench' },
  },
});
const rounds = Number(values.rounds);
const clients = Number(values.clients);
const duration = Number(values.duration);

const directory = mkdtempSync(join(tmpdir(), 'ecp-transports-'));
const certificate = await makeDevCertificate();
writeFileSync(join(directory, 'cert.pem'), certificate.cert);
writeFileSync(join(directory, 'key.pem'), certificate.key);
const [tcpPort, tlsPort, wsPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
const endpoints: Record<string, Endpoint> = {
  tcp: parseEndpoint(`tcp://127.0.0.1:${tcpPort}`),
  tls: parseEndpoint(`tls://127.0.0.1:${tlsPort}`),
  ws: parseEndpoint(`ws://127.0.0.1:${wsPort}/ecp`),
};
const command =
  `node bin/ecp.js server --password secret123 --log-level warn --tls-cert ${join(directory, 'cert.pem')} ` +
  `--tls-key ${join(directory, 'key.pem')} ` +
  Object.values(endpoints)
    .map((endpoint) => `--listen ${endpoint.transport}://127.0.0.1:${endpoint.port}${endpoint.path}`)
    .join(' ');
// SpawnedServer waits for the first listener's port; the others are up by then (one process).
const server = new SpawnedServer({ command, host: '127.0.0.1', port: tcpPort, startTimeoutMs: 10_000 });
await server.start();

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
          password: 'secret123',
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
