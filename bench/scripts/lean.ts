/**
 * The reference server's memory and CPU against its own floor, in one run: the table of
 * docs/benchmarks.md's "A lean server". The server measured is the installed package's code
 * (`node dist/bin/main.js server`, what `ecp server` runs once installed; the script builds dist/
 * first), so no TypeScript loader is counted. Side by side, in every round, the order rotated:
 *
 * - idle RSS: the server started, nothing connected, VmRSS 3 s after the start and once settled
 *   (IDLE_SETTLED_SECONDS), median of starts;
 * - closed loop over TCP, TLS and WebSocket (one server process listening on all three) and over
 *   TCP to a server of its own (the memory figure: peak RSS), and to the raw relay
 *   (bench/scripts/raw-relay.ts, the CPU floor) over the same three: deliveries/s, server CPU per
 *   delivery;
 * - open loops at fixed rates (--rates) over TCP, TLS and WebSocket, server and relay: p99
 *   latency, and server CPU per delivery at the same load for every transport;
 * - members: RSS with N joined members, fresh server per N, and the slope (bytes per member).
 *
 * Ratios are per round (the same round's TCP run), then the median over rounds. With
 * `--server-cpu 0`, every server runs pinned to that core (taskset); run the script itself pinned
 * to the other (`taskset -c 1 npx tsx bench/scripts/lean.ts --server-cpu 0`) and generator and
 * server no longer compete for a core: the report says which side was the limit.
 *
 *   npx tsx bench/scripts/lean.ts [--rounds 3] [--out docs/bench] [--server-cpu 0] [--before DIR]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { linearRegression, median } from 'simple-statistics';
import { makeDevCertificate } from '../../server-under-test/index.ts';
import { type Endpoint, findFreePort, parseEndpoint } from '../../transport/index.ts';
import { runBench } from '../bench-runner.ts';
import { formatNumber } from '../report-format.ts';
import type { BenchConfig, BenchReport } from '../report-schema.ts';
import { findListeningPid, sampleProcess } from '../server-process.ts';
import { finish, PASSWORD, type ScriptServer, scriptOptions, spawned, startServer } from './harness.ts';

const options = scriptOptions(
  import.meta.filename,
  "The reference server's memory and CPU: idle and peak RSS, bytes per member, TLS and WebSocket against TCP, TCP against a raw relay.",
  {
    rounds: {
      type: 'number',
      default: 3,
      min: 1,
      whole: true,
      describe: 'Runs of each measurement (median)',
    },
    clients: {
      type: 'number',
      default: 100,
      min: 1,
      whole: true,
      describe: 'Clients of the closed and open loops',
    },
    duration: { type: 'number', default: 5, min: 1, describe: 'Seconds of each measurement window' },
    rates: {
      type: 'string',
      default: '500,1000',
      describe:
        'Open loops: messages/s in total (x clients deliveries/s), for p99 and CPU per delivery at the same load',
    },
    members: {
      type: 'string',
      default: '250,500,1000',
      describe:
        'Room sizes whose RSS gives the bytes per member (v1 sends every join to everyone: 1,000 is about 3 GB of output)',
    },
    'idle-starts': { type: 'number', default: 5, min: 1, whole: true, describe: 'Starts for the idle RSS' },
    'server-cpu': { type: 'string', describe: 'Pin every server to these CPUs (taskset -c LIST)' },
    before: {
      type: 'string',
      describe:
        'A dist/ folder built from another commit: its server is measured beside (idle RSS, closed loops)',
    },
    build: { type: 'boolean', default: true, describe: 'Build dist/ first (--no-build: use it as it is)' },
    out: { type: 'string', default: 'docs/bench', describe: 'Folder for lean.md and lean.json' },
  },
);

const rates = options.rates.split(',').map((value) => {
  const messagesPerSecond = Number(value);
  if (!(messagesPerSecond > 0)) throw new RangeError(`--rates: not a rate: ${value}`);
  return messagesPerSecond;
});
const memberCounts = options.members.split(',').map((value) => {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`--members: not a count: ${value}`);
  return count;
});

if (options.build) {
  const built = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('npm run build failed');
}

const pin = options['server-cpu'] === undefined ? '' : `taskset -c ${options['server-cpu']} `;
const serverCommand = (dist: string) =>
  `${pin}node ${dist}/bin/main.js server --password {password} --log-level warn`;
const RELAY = `${pin}node --import tsx bench/scripts/raw-relay.ts --password {password}`;

/**
 * When the idle server is measured a second time. V8's memory reducer collects start-up's garbage
 * and shrinks the young generation about 8 s after the allocations stop (measured: 73 MB at 3 s,
 * 64 MB from 10 s on, flat to 45 s): this is the server at rest; 3 s is the server still holding
 * what starting it cost.
 */
const IDLE_SETTLED_SECONDS = 15;

const directory = mkdtempSync(join(tmpdir(), 'ecp-lean-'));
const certificate = await makeDevCertificate();
writeFileSync(join(directory, 'cert.pem'), certificate.cert);
writeFileSync(join(directory, 'key.pem'), certificate.key);
const tlsFlags = `--tls-cert ${join(directory, 'cert.pem')} --tls-key ${join(directory, 'key.pem')}`;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** VmRSS of the server listening on `port`. */
function rssOf(port: number): number {
  const pid = findListeningPid(port);
  const sample = pid === undefined ? undefined : sampleProcess(pid);
  if (sample === undefined) throw new Error(`no readable process listens on port ${port}`);
  return sample.rssBytes;
}

interface IdleRss {
  /** 3 s after the start. */
  atStart: number[];
  /** IDLE_SETTLED_SECONDS after the start. */
  settled: number[];
}

async function idleRss(dist: string): Promise<IdleRss> {
  const values: IdleRss = { atStart: [], settled: [] };
  for (let i = 0; i < options['idle-starts']; i++) {
    const server = await startServer(spawned(serverCommand(dist), '--port {port}'));
    await sleep(3000);
    values.atStart.push(rssOf(server.target.endpoint.port));
    await sleep((IDLE_SETTLED_SECONDS - 3) * 1000);
    values.settled.push(rssOf(server.target.endpoint.port));
    await server.stop();
  }
  return values;
}

interface Side {
  name: string;
  server: ScriptServer;
  endpoint: Endpoint;
}

/** One server listening on tcp (for the readiness check), tls and ws: the transports compared. */
async function transportsServer(dist: string, prefix: string): Promise<Side[]> {
  const [tlsPort, wsPort] = [await findFreePort(), await findFreePort()];
  const server = await startServer(
    spawned(
      serverCommand(dist),
      tlsFlags,
      '--listen tcp://127.0.0.1:{port}',
      `--listen tls://127.0.0.1:${tlsPort}`,
      `--listen ws://127.0.0.1:${wsPort}/ecp`,
    ),
  );
  return [
    { name: `${prefix}tls`, server, endpoint: parseEndpoint(`tls://127.0.0.1:${tlsPort}`) },
    { name: `${prefix}ws`, server, endpoint: parseEndpoint(`ws://127.0.0.1:${wsPort}/ecp`) },
  ];
}

/** The raw relay, listening on TCP, TLS and WebSocket: one room, each transport's floor. */
async function relayServer(): Promise<Side[]> {
  const [tlsPort, wsPort] = [await findFreePort(), await findFreePort()];
  const server = await startServer(
    spawned(RELAY, '--port {port}', `--tls-port ${tlsPort}`, tlsFlags, `--ws-port ${wsPort}`),
  );
  return [
    { name: 'raw relay', server, endpoint: server.target.endpoint },
    { name: 'raw relay tls', server, endpoint: parseEndpoint(`tls://127.0.0.1:${tlsPort}`) },
    { name: 'raw relay ws', server, endpoint: parseEndpoint(`ws://127.0.0.1:${wsPort}/ecp`) },
  ];
}

async function tcpServer(command: string, name: string): Promise<Side> {
  const server = await startServer(spawned(command, '--port {port}'));
  return { name, server, endpoint: server.target.endpoint };
}

async function bench(side: Side, config: Partial<BenchConfig>): Promise<BenchReport['runs'][number]> {
  const report = await runBench(
    { kind: 'running', endpoint: side.endpoint, password: PASSWORD, tls: { ca: certificate.cert } },
    { clients: options.clients, durationSeconds: options.duration, warmupSeconds: 2, runs: 1, ...config },
    {},
    side.name,
  );
  return report.runs[0]!;
}

type Run = BenchReport['runs'][number];
const closed: Record<string, Run[]> = {};
/** The open loops' runs, by rate. */
const open = new Map<number, Record<string, Run[]>>(
  rates.map((messagesPerSecond) => [messagesPerSecond, {}]),
);
function record(table: Record<string, Run[]>, name: string, run: Run): void {
  const runs = table[name] ?? [];
  runs.push(run);
  table[name] = runs;
}

// 1. Idle RSS: nothing else runs.
log('idle RSS ...');
const idle = {
  after: await idleRss('dist'),
  before: options.before ? await idleRss(options.before) : { atStart: [], settled: [] },
};

// 2. Closed and open loops, side by side.
const sides: Side[] = [
  await tcpServer(serverCommand('dist'), 'tcp'),
  ...(await transportsServer('dist', '')),
  ...(await relayServer()),
];
if (options.before) {
  sides.push(await tcpServer(serverCommand(options.before), 'before tcp'));
  sides.push(...(await transportsServer(options.before, 'before ')));
}
const openSides = sides.filter((side) => !side.name.startsWith('before'));
try {
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < sides.length; i++) {
      const side = sides[(i + round) % sides.length]!;
      const run = await bench(side, {});
      record(closed, side.name, run);
      log(
        `round ${round + 1}/${options.rounds} closed ${side.name}: ${formatNumber(run.deliveries.deliveriesPerSecond, 0)} deliveries/s, server ${run.server.cpuCores?.toFixed(2)} cores, lost ${run.deliveries.lost}`,
      );
    }
    for (const [messagesPerSecond, table] of open) {
      for (let i = 0; i < openSides.length; i++) {
        const side = openSides[(i + round) % openSides.length]!;
        const run = await bench(side, { rate: messagesPerSecond });
        record(table, side.name, run);
        log(
          `round ${round + 1}/${options.rounds} open ${messagesPerSecond} msg/s ${side.name}: p99 ${run.latency.perDelivery.p99Ms} ms, lost ${run.deliveries.lost}`,
        );
      }
    }
  }
} finally {
  for (const server of new Set(sides.map((side) => side.server))) await server.stop();
}

// 3. Members: a fresh server per room size, RSS once every member has joined.
const members: { count: number; rssBytes: number }[] = [];
for (const count of memberCounts) {
  const side = await tcpServer(serverCommand('dist'), 'tcp');
  try {
    const run = await bench(side, {
      clients: count,
      senders: 1,
      rate: 1,
      durationSeconds: 1,
      warmupSeconds: 1,
    });
    members.push({ count, rssBytes: run.server.rssAfterJoinBytes ?? Number.NaN });
    log(`members ${count}: RSS ${formatNumber((run.server.rssAfterJoinBytes ?? Number.NaN) / 1e6, 1)} MB`);
  } finally {
    await side.server.stop();
  }
}
rmSync(directory, { recursive: true, force: true });

// 4. The table.
const perDelivery = (run: Run) =>
  ((run.server.cpuCores ?? Number.NaN) / run.deliveries.deliveriesPerSecond) * 1e9;
const rate = (run: Run) => run.deliveries.deliveriesPerSecond;
const perCpuSecond = (run: Run) => run.deliveries.deliveriesPerSecond / (run.server.cpuCores ?? Number.NaN);
const p99 = (run: Run) => run.latency.perDelivery.p99Ms;
const med = (values: number[]) => (values.length === 0 ? Number.NaN : median(values));
const of = (table: Record<string, Run[]>, name: string, figure: (run: Run) => number) =>
  (table[name] ?? []).map(figure);
/** Median over rounds of the round's ratio a / b. */
const ratio = (table: Record<string, Run[]>, a: string, b: string, figure: (run: Run) => number) =>
  med((table[a] ?? []).map((run, round) => figure(run) / figure(table[b]![round]!)));
const mb = (bytes: number) => formatNumber(bytes / 1e6, 1);
const fit = members.length >= 2 ? linearRegression(members.map((m) => [m.count, m.rssBytes])) : undefined;
const lost = [closed, ...open.values()]
  .flatMap((table) => Object.values(table).flat())
  .reduce((sum, run) => sum + run.deliveries.lost, 0);

const idleRow = (values: number[]) => `${mb(med(values))} (${values.map(mb).join(', ')})`;
const TRANSPORTS = ['tcp', 'tls', 'ws'] as const;
/** The relay's side for a transport: 'raw relay' (tcp), 'raw relay tls', 'raw relay ws'. */
const relayOf = (transport: string) => (transport === 'tcp' ? 'raw relay' : `raw relay ${transport}`);

/** The rows of one open-loop rate: CPU per delivery at the same load, and p99. */
function openRows(messagesPerSecond: number, table: Record<string, Run[]>): [string, string][] {
  const atRate = `at ${formatNumber(messagesPerSecond * options.clients, 0)} deliveries/s (open loop)`;
  return [
    ...TRANSPORTS.map((transport): [string, string] => [
      `server CPU per delivery ${atRate}, ${transport}, ns (raw relay)`,
      `${formatNumber(med(of(table, transport, perDelivery)), 0)} (${formatNumber(med(of(table, relayOf(transport), perDelivery)), 0)})`,
    ]),
    [`TCP / raw relay, CPU per delivery ${atRate}`, ratio(table, 'tcp', 'raw relay', perDelivery).toFixed(2)],
    ...(['tls', 'ws'] as const).map((transport): [string, string] => [
      `${transport.toUpperCase()} / TCP, deliveries per server CPU second ${atRate} (raw relay: the same)`,
      `${ratio(table, transport, 'tcp', perCpuSecond).toFixed(2)} (relay ${ratio(table, relayOf(transport), 'raw relay', perCpuSecond).toFixed(2)})`,
    ]),
    ...TRANSPORTS.map((transport): [string, string] => [
      `p99 ${atRate}, ${transport}, ms (raw relay)`,
      `${formatNumber(med(of(table, transport, p99)), 2)} (${formatNumber(med(of(table, relayOf(transport), p99)), 2)})`,
    ]),
    [
      `p99 ${atRate}, TLS / TCP; WS / TCP (raw relay: the same)`,
      `${ratio(table, 'tls', 'tcp', p99).toFixed(2)}; ${ratio(table, 'ws', 'tcp', p99).toFixed(2)} (relay ${ratio(table, 'raw relay tls', 'raw relay', p99).toFixed(2)}; ${ratio(table, 'raw relay ws', 'raw relay', p99).toFixed(2)})`,
    ],
  ];
}

const rows: [string, string][] = [
  ['idle RSS, `ecp server` (dist/), 3 s after the start, MB', idleRow(idle.after.atStart)],
  [`idle RSS, settled (${IDLE_SETTLED_SECONDS} s after the start), MB`, idleRow(idle.after.settled)],
  [
    'peak RSS, 100-client closed loop over TCP, MB',
    mb(Math.max(...of(closed, 'tcp', (r) => r.server.peakRssBytes ?? 0))),
  ],
  ...members.map((m): [string, string] => [
    `RSS with ${formatNumber(m.count, 0)} members, MB`,
    mb(m.rssBytes),
  ]),
  [
    'bytes per member (slope); 10,000 members, extrapolated, MB',
    fit === undefined ? '-' : `${formatNumber(fit.m, 0)}; ${mb(fit.b + fit.m * 10_000)}`,
  ],
  ...sides
    .filter((side) => !side.name.startsWith('before'))
    .map((side): [string, string] => [
      `deliveries/s, ${side.name}`,
      `${formatNumber(med(of(closed, side.name, rate)), 0)} (server ${med(of(closed, side.name, (r) => r.server.cpuCores ?? Number.NaN)).toFixed(2)} cores)`,
    ]),
  ...(['tls', 'ws'] as const).flatMap((transport): [string, string][] => [
    [
      `${transport.toUpperCase()} / TCP, closed loop: deliveries/s; per server CPU second (raw relay: the same)`,
      `${ratio(closed, transport, 'tcp', rate).toFixed(2)}; ${ratio(closed, transport, 'tcp', perCpuSecond).toFixed(2)} (relay ${ratio(closed, relayOf(transport), 'raw relay', rate).toFixed(2)}; ${ratio(closed, relayOf(transport), 'raw relay', perCpuSecond).toFixed(2)})`,
    ],
  ]),
  ...TRANSPORTS.map((transport): [string, string] => [
    `server CPU per delivery, closed loop, ${transport}, ns (raw relay)`,
    `${formatNumber(med(of(closed, transport, perDelivery)), 0)} (${formatNumber(med(of(closed, relayOf(transport), perDelivery)), 0)})`,
  ]),
  [
    'TCP / raw relay, CPU per delivery, closed loop',
    ratio(closed, 'tcp', 'raw relay', perDelivery).toFixed(2),
  ],
  ...[...open].flatMap(([messagesPerSecond, table]) => openRows(messagesPerSecond, table)),
  [
    'closed-loop runs flagged generator-bound; load workers busy (median)',
    `${
      Object.values(closed)
        .flat()
        .filter((run) => run.generator.bound).length
    } of ${Object.values(closed).flat().length}; ${med(
      Object.values(closed)
        .flat()
        .flatMap((run) => run.generator.eventLoopUtilization),
    ).toFixed(2)}`,
  ],
  [
    'other work on the machine, cores (median)',
    med(
      Object.values(closed)
        .flat()
        .map((run) => run.server.otherCpuCores ?? Number.NaN),
    ).toFixed(2),
  ],
  ['deliveries lost, all runs', String(lost)],
];
if (options.before) {
  rows.push(['before: idle RSS, 3 s after the start, MB', idleRow(idle.before.atStart)]);
  rows.push(['before: idle RSS, settled, MB', idleRow(idle.before.settled)]);
  rows.push([
    'before: peak RSS, 100-client closed loop over TCP, MB',
    mb(Math.max(...of(closed, 'before tcp', (r) => r.server.peakRssBytes ?? 0))),
  ]);
  for (const name of ['tcp', 'tls', 'ws']) {
    rows.push([
      `before: deliveries/s, ${name}; CPU per delivery, ns`,
      `${formatNumber(med(of(closed, `before ${name}`, rate)), 0)}; ${formatNumber(med(of(closed, `before ${name}`, perDelivery)), 0)}`,
    ]);
  }
}

const header = `${options.clients} clients, 128-byte texts, ${options.duration} s windows, ${options.rounds} rounds (order rotated), servers ${pin ? `pinned: ${pin.trim()}` : 'not pinned'}`;
const table = [
  '| figure | measured |',
  '| --- | --- |',
  ...rows.map(([name, value]) => `| ${name} | ${value} |`),
].join('\n');
process.stdout.write(`\n${header}\n\n${table}\n`);
mkdirSync(options.out, { recursive: true });
writeFileSync(join(options.out, 'lean.md'), `# A lean server\n\n${header}\n\n${table}\n`);
writeFileSync(
  join(options.out, 'lean.json'),
  `${JSON.stringify({ options, idle, members, closed: summarise(closed), open: Object.fromEntries([...open].map(([messagesPerSecond, table]) => [messagesPerSecond, summarise(table)])) }, null, 2)}\n`,
);

/** Per side, each run's headline figures (the reports themselves are large). */
function summarise(table: Record<string, Run[]>) {
  return Object.fromEntries(
    Object.entries(table).map(([name, runs]) => [
      name,
      runs.map((run) => ({
        deliveriesPerSecond: run.deliveries.deliveriesPerSecond,
        lost: run.deliveries.lost,
        serverCpuCores: run.server.cpuCores,
        serverPeakRssBytes: run.server.peakRssBytes,
        p99Ms: run.latency.perDelivery.p99Ms,
        generatorBound: run.generator.bound,
        generatorBusy: run.generator.eventLoopUtilization,
        otherCpuCores: run.server.otherCpuCores,
      })),
    ]),
  );
}
await finish(lost === 0);
