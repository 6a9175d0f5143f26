/**
 * What key rotation on leave costs (docs/benchmarks.md, "Key rotation on leave"): a room of
 * `--members` members that only read, and `--churners` clients that join and leave again and
 * again for `--seconds`, against the server without and with `--rotate-key-on-leave`, alternately,
 * `--runs` times each. Reports join/leave cycles per second and the server's CPU per cycle
 * (from /proc), median of the runs.
 *
 *   npx tsx bench/scripts/churn.ts [--spawn CMD] [--members 100] [--churners 4] [--seconds 10]
 *                                  [--runs 3] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import {
  encodeMessage,
  generateRsaKeyPair,
  handshakeMessage,
  type RsaKeyPair,
} from '../../protocol/index.ts';
import { type Connection, connect } from '../../transport/index.ts';
import { ChatMember } from '../chat-member.ts';
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

const options = scriptOptions(
  import.meta.filename,
  'What key rotation on leave costs: join/leave cycles per second and server CPU per cycle, without and with --rotate-key-on-leave.',
  {
    spawn: spawnOption(`${REFERENCE_SERVER} --log-level warn`),
    members: { type: 'number', default: 100, min: 1, whole: true, describe: 'Members that only read' },
    churners: { type: 'number', default: 4, min: 1, whole: true, describe: 'Clients joining and leaving' },
    seconds: { type: 'number', default: 10, min: 1, whole: true, describe: 'Length of each run' },
    runs: { type: 'number', default: 3, min: 1, whole: true, describe: 'Runs of each kind' },
    json: { type: 'string', describe: 'Write the runs and medians here' },
  },
);

const keys: RsaKeyPair[] = await Promise.all([1, 2, 3, 4].map(() => generateRsaKeyPair()));

interface ChurnRun {
  rotate: boolean;
  cycles: number;
  cyclesPerSecond: number;
  serverCpuMsPerCycle: number;
  keyExchangesPerMember: number;
}

/** A member that reads everything and does nothing with it (no RSA: it never opens new keys). */
async function reader(url: string, name: string, pair: RsaKeyPair): Promise<Connection> {
  const connection = await connect(url);
  let lines = 0;
  const joined = new Promise<void>((resolve) =>
    connection.on('message', (line) => {
      if (++lines === 4) resolve();
      if (line.startsWith('{"type":"key_exchange"')) keyExchanges++;
    }),
  );
  connection.send(encodeMessage(handshakeMessage(name, PASSWORD, pair.publicKeyPem)));
  await joined;
  return connection;
}
let keyExchanges = 0;

async function run(rotate: boolean): Promise<ChurnRun> {
  const server = await startServer(spawned(options.spawn, ...(rotate ? ['--rotate-key-on-leave'] : [])));
  const { target, url } = server;
  const pid = findListeningPid(target.endpoint.port);
  const members: Connection[] = [];
  for (let i = 0; i < options.members; i++)
    members.push(await reader(url, `member${i}`, keys[i % keys.length]!));
  keyExchanges = 0;
  let cycles = 0;
  let churning = true;
  const before = pid === undefined ? undefined : sampleProcess(pid);
  const started = performance.now();
  const loops = Array.from({ length: options.churners }, async (_, index) => {
    for (let i = 0; churning; i++) {
      const member = await ChatMember.join({
        url,
        username: `churn${index}-${i}`,
        password: PASSWORD,
        keys: keys[index % keys.length]!,
        decrypt: false,
      });
      await member.leave();
      cycles++;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  churning = false;
  await Promise.all(loops);
  const elapsed = (performance.now() - started) / 1000;
  const after = pid === undefined ? undefined : sampleProcess(pid);
  for (const member of members) member.destroy();
  await server.stop();
  const cpuSeconds = before && after ? after.cpuSeconds - before.cpuSeconds : Number.NaN;
  return {
    rotate,
    cycles,
    cyclesPerSecond: cycles / elapsed,
    serverCpuMsPerCycle: (cpuSeconds * 1000) / cycles,
    keyExchangesPerMember: keyExchanges / options.members,
  };
}

const runs: ChurnRun[] = [];
for (let i = 0; i < options.runs; i++) {
  for (const rotate of [false, true]) {
    const result = await run(rotate);
    runs.push(result);
    console.error(
      `run ${i + 1} ${rotate ? 'rotate' : 'plain '}: ${result.cycles} cycles, ${result.cyclesPerSecond.toFixed(1)}/s, server ${result.serverCpuMsPerCycle.toFixed(2)} ms CPU per join+leave, ${result.keyExchangesPerMember.toFixed(0)} new keys per member`,
    );
  }
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const summary = (rotate: boolean) => {
  const mine = runs.filter((item) => item.rotate === rotate);
  return {
    cyclesPerSecond: median(mine.map((item) => item.cyclesPerSecond)),
    serverCpuMsPerCycle: median(mine.map((item) => item.serverCpuMsPerCycle)),
  };
};
const plain = summary(false);
const rotating = summary(true);
console.log(
  `${options.members} members reading, ${options.churners} clients joining and leaving for ${options.seconds} s, median of ${options.runs} runs each`,
);
console.log('                          plain    rotate-key-on-leave   ratio');
console.log(
  `join+leave cycles/s   ${plain.cyclesPerSecond.toFixed(1).padStart(10)}  ${rotating.cyclesPerSecond.toFixed(1).padStart(20)}  ${(rotating.cyclesPerSecond / plain.cyclesPerSecond).toFixed(2)}x`,
);
console.log(
  `server CPU ms/cycle   ${plain.serverCpuMsPerCycle.toFixed(2).padStart(10)}  ${rotating.serverCpuMsPerCycle.toFixed(2).padStart(20)}  ${(rotating.serverCpuMsPerCycle / plain.serverCpuMsPerCycle).toFixed(2)}x`,
);
if (options.json !== undefined) {
  writeFileSync(options.json, `${JSON.stringify({ options, runs, plain, rotating }, null, 2)}\n`);
}
await finish();
