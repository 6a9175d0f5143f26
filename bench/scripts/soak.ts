/**
 * The soak of docs/benchmarks.md ("Flow control"): the server under a steady open-loop load at
 * half the most it sustains, with clients joining and leaving all the while, for a long time.
 *
 *   npx tsx bench/scripts/soak.ts [--spawn CMD] [--minutes 10] [--clients 50] [--rate R] [--churners 4]
 *                         [--json FILE]
 *
 * 1. Measures the most the server and this generator sustain with `--clients` members: a
 *    closed-loop `ecp bench` run of 5 s (skipped when --rate is given).
 * 2. Runs `ecp bench` open loop at half that rate for `--minutes`, while `--churners` loops each
 *    join, send one message, wait for its echo, and leave, again and again.
 * 3. Samples the server's RSS and open file descriptors every 10 s, and at the end reads its
 *    slow-reader count from /metrics.
 * Exit code 0 when the bench's clients lost nothing, none was disconnected, every churn cycle
 * completed and the server's file descriptors came back to where they started; 1 otherwise.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { generateRsaKeyPair, type RsaKeyPair } from '../../protocol/index.ts';
import { findFreePort } from '../../transport/index.ts';
import { runBench } from '../bench-runner.ts';
import { ChatMember, numberedText } from '../chat-member.ts';
import { formatText } from '../report-format.ts';
import { findListeningPid, sampleProcess } from '../server-process.ts';
import {
  finish,
  PASSWORD,
  REFERENCE_SERVER,
  scriptOptions,
  spawned,
  spawnOption,
  startServer,
} from './harness.ts';

const SAMPLE_EVERY_MS = 10_000;
const ECHO_TIMEOUT_MS = 10_000;

const options = scriptOptions(
  import.meta.filename,
  'The server under a steady open-loop load at half the most it sustains, with clients joining and leaving all the while.',
  {
    spawn: spawnOption(`${REFERENCE_SERVER} --log-level warn`),
    minutes: { type: 'number', default: 10, min: 0.1, describe: 'Length of the soak' },
    clients: { type: 'number', default: 50, min: 2, whole: true, describe: 'Bench clients in the room' },
    rate: { type: 'number', min: 1, describe: 'Messages/s in total [default: half the measured maximum]' },
    churners: { type: 'number', default: 4, min: 0, whole: true, describe: 'Clients joining and leaving' },
    json: { type: 'string', describe: 'Write the result here' },
  },
);

const metricsPort = await findFreePort();
const server = await startServer(spawned(options.spawn, '--metrics-port', String(metricsPort)));
const { target, url } = server;
const running = { kind: 'running' as const, endpoint: target.endpoint, password: target.password };
const pid = findListeningPid(target.endpoint.port);
const log = (text: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${text}`);

// 1. The most this server and generator sustain, closed loop.
let maxPublishesPerSecond: number | undefined;
let rate = options.rate;
if (rate === undefined) {
  log(`measuring the maximum rate with ${options.clients} clients (closed loop, 5 s)`);
  const max = await runBench(running, { clients: options.clients, durationSeconds: 5, warmupSeconds: 2 });
  maxPublishesPerSecond = max.summary.publishesPerSecond.median;
  rate = Math.round(maxPublishesPerSecond / 2);
  log(`maximum ${Math.round(maxPublishesPerSecond)} msg/s; soaking at ${rate} msg/s`);
}

// 3. Samples of the server's memory and descriptors.
const samples: { minute: number; rssMB: number; fds: number }[] = [];
const started = performance.now();
const sample = () => {
  const process = pid === undefined ? undefined : sampleProcess(pid);
  let fds = -1;
  try {
    fds = pid === undefined ? -1 : readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // Not readable (another user's process): reported as -1.
  }
  samples.push({
    minute: Math.round((performance.now() - started) / 600) / 100,
    rssMB: Math.round((process?.rssBytes ?? 0) / 1e5) / 10,
    fds,
  });
};
sample();
const sampler = setInterval(sample, SAMPLE_EVERY_MS);

// 2. Churn alongside the bench: join, one message and its echo, leave; again and again.
const churn = { cycles: 0, failures: [] as string[] };
let churning = true;
const keys: RsaKeyPair[] = await Promise.all(
  Array.from({ length: Math.max(1, options.churners) }, () => generateRsaKeyPair()),
);
async function churner(index: number): Promise<void> {
  for (let cycle = 1; churning; cycle++) {
    const username = `churn${index}-${cycle}`;
    try {
      const member = await ChatMember.join({
        url,
        username,
        password: PASSWORD,
        keys: keys[index]!,
        decrypt: true,
      });
      const text = numberedText(username, 1, 64);
      const echoed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ECHO_TIMEOUT_MS);
        member.on('chat', (sender, received) => {
          if (sender === username && received === text) {
            clearTimeout(timer);
            resolve(true);
          }
        });
      });
      member.send(member.chatLine(text));
      if (!(await echoed)) churn.failures.push(`${username}: no echo within ${ECHO_TIMEOUT_MS} ms`);
      await member.leave();
      churn.cycles++;
    } catch (error) {
      churn.failures.push(`${username}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
const churners = Array.from({ length: options.churners }, (_, i) => churner(i));

log(
  `soak: ${options.clients} clients at ${rate} msg/s for ${options.minutes} min, ${options.churners} churners`,
);
const report = await runBench(
  running,
  { clients: options.clients, rate, durationSeconds: options.minutes * 60, warmupSeconds: 5 },
  {},
  `soak at ${rate} msg/s with ${options.churners} churners`,
);
churning = false;
await Promise.all(churners);
// Everyone has left: the descriptors should be back where they were before any client.
await new Promise((resolve) => setTimeout(resolve, 2000));
sample();
clearInterval(sampler);

let serverMetrics: Record<string, number> = {};
try {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  serverMetrics = Object.fromEntries(
    text
      .split('\n')
      .filter((line) =>
        /^ecp_(slow_reader|connections |users |input_pauses|output_budget|messages_relayed)/.test(line),
      )
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))];
      }),
  );
} catch (error) {
  log(`could not read the server's metrics: ${(error as Error).message}`);
}
await server.stop();

const run = report.runs[0]!;
const first = samples[0]!;
const last = samples.at(-1)!;
const afterJoin = samples[Math.min(samples.length - 1, 2)]!;
const result = {
  target: target.description,
  maxPublishesPerSecond,
  rate,
  minutes: options.minutes,
  clients: options.clients,
  bench: {
    published: run.publishes.published,
    expected: run.deliveries.expected,
    received: run.deliveries.received,
    lost: run.deliveries.lost,
    duplicated: run.deliveries.duplicated,
    reordered: run.deliveries.reordered,
    deliveriesPerSecond: run.deliveries.deliveriesPerSecond,
    latencyP99Ms: run.latency.perDelivery.p99Ms,
    latencyMaxMs: run.latency.perDelivery.maxMs,
    clientsDisconnected: run.clientsDisconnected,
    serverCpuCores: run.server.cpuCores,
    otherCpuCores: run.server.otherCpuCores,
  },
  churn: { cycles: churn.cycles, failures: churn.failures.length, firstFailures: churn.failures.slice(0, 5) },
  serverMetrics,
  samples,
};
const ok =
  run.deliveries.lost === 0 &&
  run.deliveries.duplicated === 0 &&
  run.deliveries.reordered === 0 &&
  run.clientsDisconnected === 0 &&
  churn.failures.length === 0 &&
  last.fds <= first.fds;

console.log(formatText(report));
console.log(`churn: ${churn.cycles} join/message/leave cycles, ${churn.failures.length} failed`);
for (const failure of churn.failures.slice(0, 5)) console.log(`  ${failure}`);
console.log(`server RSS MB and open descriptors, every ${SAMPLE_EVERY_MS / 1000} s:`);
for (const point of samples)
  console.log(
    `  ${point.minute.toFixed(2).padStart(6)} min  ${point.rssMB.toFixed(1).padStart(7)} MB  ${point.fds} fds`,
  );
console.log(
  `RSS: ${first.rssMB} MB before the clients, ${afterJoin.rssMB} MB after 20 s, ${Math.max(...samples.map((s) => s.rssMB))} MB at most, ${last.rssMB} MB at the end; descriptors ${first.fds} before, ${Math.max(...samples.map((s) => s.fds))} at most, ${last.fds} after`,
);
console.log(`server: ${JSON.stringify(serverMetrics)}`);
console.log(ok ? 'PASS' : 'FAIL');
if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
await finish(ok);
