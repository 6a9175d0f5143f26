/**
 * The cost of sharing a room through Redis, in one run: the single-node server (no `--cluster`)
 * against 1, 2 and 3 nodes of one room on one Redis, with the bench's clients spread over the
 * nodes (`--target a,b,c`), rotating the order every round so the machine's noise falls on all
 * alike. For each: deliveries/s, latency p50/p99, the nodes' CPU and Redis's CPU (both read from
 * /proc/PID/stat over the measurement window), and after the bench the latency of one message at a
 * time from a member of the first node to a member of the last (the hop without any queue). Prints a Markdown table of
 * medians; docs/benchmarks.md ("Cluster on Redis") holds the figures and what they mean.
 *
 *   npx tsx bench/scripts/cluster.ts [--rounds 3] [--clients 60] [--duration 4] [--nodes 1,2,3] [--rate 0]
 *
 * Needs `redis-server` on the PATH (it starts its own, on a free port, without persistence).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { median } from 'simple-statistics';
import { generateRsaKeyPair } from '../../protocol/index.ts';
import { type Endpoint, findFreePort, formatEndpoint, waitUntilAccepting } from '../../transport/index.ts';
import { runBench } from '../bench-runner.ts';
import { ChatMember } from '../chat-member.ts';
import { formatNumber } from '../report-format.ts';
import { finish, PASSWORD, scriptOptions } from './harness.ts';

const values = scriptOptions(
  import.meta.filename,
  'Broadcast throughput of one room served by 1, 2 and 3 reference server nodes on one Redis, against the single-node server.',
  {
    rounds: { type: 'number', default: 3, min: 1, whole: true, describe: 'Runs of each configuration' },
    clients: {
      type: 'number',
      default: 60,
      min: 1,
      whole: true,
      describe: 'Bench clients, spread over the nodes',
    },
    duration: { type: 'number', default: 4, min: 1, describe: 'Seconds of each measurement window' },
    nodes: { type: 'string', default: '1,2,3', describe: 'Cluster sizes to measure, comma-separated' },
    rate: {
      type: 'number',
      default: 0,
      min: 0,
      describe:
        'Messages per second from all senders together (open loop); 0: closed loop, as fast as it goes',
    },
  },
);
const sizes = values.nodes.split(',').map((text) => {
  const size = Number(text);
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`--nodes takes whole numbers >= 1, got ${text}`);
  return size;
});

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process has used so far (user + system). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), counted from field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

const processes = new Set<ChildProcess>();

async function startProcess(command: string, args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  processes.add(child);
  await waitUntilAccepting({ host: '127.0.0.1', port }, 15_000);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  processes.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function startNode(flags: string[]): Promise<{ child: ChildProcess; endpoint: Endpoint }> {
  const port = await findFreePort();
  const args = [
    'bin/ecp.js',
    'server',
    '--port',
    String(port),
    '--password',
    PASSWORD,
    '--log-level',
    'warn',
  ];
  const child = await startProcess(process.execPath, [...args, ...flags], port);
  return { child, endpoint: { transport: 'tcp', host: '127.0.0.1', port, path: '' } };
}

const redisPort = await findFreePort();
const redis = await startProcess(
  'redis-server',
  ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', ''],
  redisPort,
);

interface Figures {
  deliveries: number[];
  p50: number[];
  p99: number[];
  nodeCpu: number[];
  redisCpu: number[];
  /** Deliveries per second of node CPU: what the nodes could do if the load generator kept up. */
  perNodeCore: number[];
  /** One message at a time, from a member of the first node to a member of the last: ms. */
  pingP50: number[];
  pingP99: number[];
}

const PINGS = 200;
const pingKeys = await Promise.all([generateRsaKeyPair(2048), generateRsaKeyPair(2048)]);

/** The Redis hop without queueing: PINGS messages one after the other, each awaited at the far member. */
async function pingPong(first: Endpoint, last: Endpoint): Promise<{ p50: number; p99: number }> {
  const join = (endpoint: Endpoint, username: string, index: number) =>
    ChatMember.join({ url: formatEndpoint(endpoint), username, password: PASSWORD, keys: pingKeys[index]! });
  const sender = await join(first, 'ping-a', 0);
  const receiver = await join(last, 'ping-b', 1);
  const times: number[] = [];
  try {
    for (let n = 0; n < PINGS; n++) {
      const text = `ping ${n}`;
      const arrived = new Promise<void>((resolve) => {
        const onChat = (from: string, received: string | undefined) => {
          if (from !== 'ping-a' || received !== text) return;
          receiver.off('chat', onChat);
          resolve();
        };
        receiver.on('chat', onChat);
      });
      const sentAt = performance.now();
      sender.send(sender.chatLine(text));
      await arrived;
      times.push(performance.now() - sentAt);
    }
  } finally {
    await Promise.all([sender.leave(), receiver.leave()]);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(PINGS * 0.5)]!, p99: times[Math.floor(PINGS * 0.99)]! };
}
const configurations = ['single', ...sizes.map((size) => `${size} node${size === 1 ? '' : 's'}`)];
const results = new Map<string, Figures>(
  configurations.map((name) => [
    name,
    {
      deliveries: [],
      p50: [],
      p99: [],
      nodeCpu: [],
      redisCpu: [],
      perNodeCore: [],
      pingP50: [],
      pingP99: [],
    },
  ]),
);

try {
  for (let round = 0; round < values.rounds; round++) {
    const order = configurations.map((_, i) => configurations[(i + round) % configurations.length]!);
    for (const name of order) {
      const size = name === 'single' ? 1 : Number.parseInt(name, 10);
      // A fresh room each time, so no run inherits another's log.
      const room = `bench-${round}-${size}-${Date.now()}`;
      const nodes = [];
      for (let i = 0; i < size; i++) {
        const flags =
          name === 'single'
            ? []
            : ['--cluster', `redis://127.0.0.1:${redisPort}`, '--room', room, '--node-id', `n${i}`];
        nodes.push(await startNode(flags));
      }
      const pids = nodes.map((node) => node.child.pid!);
      // CPU over the measurement window only: from the first `measuring` progress to the first `draining`.
      const sample = () => ({
        at: process.hrtime.bigint(),
        nodes: pids.map(cpuSeconds),
        redis: cpuSeconds(redis.pid!),
      });
      let from: ReturnType<typeof sample> | undefined;
      let to: ReturnType<typeof sample> | undefined;
      try {
        const report = await runBench(
          {
            kind: 'running',
            endpoint: nodes[0]!.endpoint,
            otherEndpoints: nodes.slice(1).map((node) => node.endpoint),
            password: PASSWORD,
          },
          { clients: values.clients, durationSeconds: values.duration, runs: 1, rate: values.rate },
          {
            progress: ({ phase }) => {
              if (phase === 'measuring') from ??= sample();
              if (phase === 'draining' && from !== undefined) to ??= sample();
            },
          },
          name,
        );
        const run = report.runs[0]!;
        const figures = results.get(name)!;
        figures.deliveries.push(run.deliveries.deliveriesPerSecond);
        figures.p50.push(run.latency.perDelivery.p50Ms);
        figures.p99.push(run.latency.perDelivery.p99Ms);
        if (from !== undefined && to !== undefined) {
          const seconds = Number(to.at - from.at) / 1e9;
          const nodeCores = to.nodes.reduce((sum, value, i) => sum + value - from!.nodes[i]!, 0) / seconds;
          figures.nodeCpu.push(nodeCores);
          figures.redisCpu.push((to.redis - from.redis) / seconds);
          figures.perNodeCore.push(run.deliveries.deliveriesPerSecond / nodeCores);
        }
        const ping = await pingPong(nodes[0]!.endpoint, nodes.at(-1)!.endpoint);
        figures.pingP50.push(ping.p50);
        figures.pingP99.push(ping.p99);
        process.stderr.write(
          `round ${round + 1}/${values.rounds} ${name}: ${formatNumber(run.deliveries.deliveriesPerSecond, 0)} deliveries/s, p99 ${run.latency.perDelivery.p99Ms} ms, lost ${run.deliveries.lost}\n`,
        );
      } finally {
        await Promise.all(nodes.map((node) => stopProcess(node.child)));
      }
    }
  }
} finally {
  for (const child of [...processes]) await stopProcess(child);
}

const medianOf = (figures: number[]) => (figures.length > 0 ? median(figures) : Number.NaN);
const single = median(results.get('single')!.deliveries);
const lines = [
  '| configuration | median deliveries/s | runs | ratio to single | p50 ms | p99 ms | node CPU (cores, all nodes) | Redis CPU (cores) | deliveries per node CPU second | one at a time p50 ms | one at a time p99 ms |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...configurations.map((name) => {
    const f = results.get(name)!;
    return `| ${name} | ${formatNumber(median(f.deliveries), 0)} | ${f.deliveries.map((v) => formatNumber(v, 0)).join(', ')} | ${(median(f.deliveries) / single).toFixed(2)} | ${median(f.p50).toFixed(2)} | ${median(f.p99).toFixed(2)} | ${medianOf(f.nodeCpu).toFixed(2)} | ${medianOf(f.redisCpu).toFixed(2)} | ${formatNumber(medianOf(f.perNodeCore), 0)} | ${medianOf(f.pingP50).toFixed(2)} | ${medianOf(f.pingP99).toFixed(2)} |`;
  }),
];
process.stdout.write(
  `\n${values.clients} clients spread over the nodes, ${values.rate > 0 ? `${values.rate} msg/s open loop` : 'closed loop'}, ${values.duration} s windows, ${values.rounds} rounds (order rotated)\n\n${lines.join('\n')}\n`,
);
await finish();
