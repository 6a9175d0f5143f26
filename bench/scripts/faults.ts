/**
 * The fault run of docs/benchmarks.md ("Flow control"): healthy members chat while, all at the same
 * time, clients are killed in the middle of writing a line, members are reset in the middle of a
 * broadcast, one member stops reading, and 1,000 connections never send a handshake.
 * The healthy members must lose nothing and stay connected.
 *
 *   npx tsx bench/scripts/faults.ts [--spawn CMD] [--seconds 60] [--healthy 10] [--rate 10] [--idle 1000]
 *                           [--json FILE]
 *
 * - healthy: `--healthy` members each send `--rate` numbered messages a second; every healthy
 *   member checks that it receives every one of them, in order.
 * - killed mid-write: every 200 ms a client joins, writes half of a 32 KiB line and is reset (as a
 *   process killed while writing leaves its connection).
 * - reset mid-broadcast: every 2 s a healthy member sends 200 messages at once and 20 members that
 *   joined for it are reset while the server relays them.
 * - stalled reader: a member that stops reading once it has sent its handshake (its connection is
 *   paused). Its kernel buffers and one read of Node's (up to 64 KiB) take the room's traffic, then
 *   nothing does: the server sees a slow reader and disconnects it.
 * Every fault client goes through the transport, as the conformance kit's do: misbehaving (half a
 * line, a reset) through the connection's raw access.
 * - never handshake: `--idle` connections that send nothing, reopened as the server closes them
 *   (the handshake timeout).
 * Exit code 0 when every healthy member received every healthy message in order and none was
 * disconnected; 1 otherwise.
 */
import { writeFileSync } from 'node:fs';
import {
  encodeMessage,
  generateRsaKeyPair,
  handshakeMessage,
  type RsaKeyPair,
} from '../../protocol/index.ts';
import { type Connection, connect, findFreePort, rawAccess } from '../../transport/index.ts';
import { ChatMember, numberedText } from '../chat-member.ts';
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
  'Healthy members chat while clients are killed mid-write, members are reset mid-broadcast, one stops reading and idle connections never handshake.',
  {
    spawn: spawnOption(`${REFERENCE_SERVER} --log-level warn`),
    seconds: { type: 'number', default: 60, min: 5, describe: 'Length of the run' },
    healthy: { type: 'number', default: 10, min: 2, whole: true, describe: 'Healthy members' },
    rate: { type: 'number', default: 10, min: 0.1, describe: 'Messages/s each healthy member sends' },
    idle: {
      type: 'number',
      default: 1000,
      min: 0,
      whole: true,
      describe: 'Connections that never handshake',
    },
    json: { type: 'string', describe: 'Write the result here' },
  },
);

const metricsPort = await findFreePort();
const server = await startServer(spawned(options.spawn, '--metrics-port', String(metricsPort)));
const { target, url } = server;
const { port } = target.endpoint;
const pid = findListeningPid(port);
const log = (text: string) => console.error(`[faults ${new Date().toISOString().slice(11, 19)}] ${text}`);
const keys: RsaKeyPair[] = await Promise.all([1, 2, 3, 4].map(() => generateRsaKeyPair()));
const key = (i: number) => keys[i % keys.length]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let running = true;
const counts = { killedMidWrite: 0, resetMidBroadcast: 0, idleOpened: 0, faultErrors: [] as string[] };
const noteError = (what: string, error: unknown) => {
  if (counts.faultErrors.length < 20) counts.faultErrors.push(`${what}: ${(error as Error).message}`);
};

// --- the healthy room ---------------------------------------------------------------------------------

const healthy: ChatMember[] = [];
for (let i = 0; i < options.healthy; i++) {
  healthy.push(await ChatMember.join({ url, username: `healthy${i}`, password: PASSWORD, keys: key(i) }));
}
const sent = new Map<string, number>(healthy.map((member) => [member.username, 0]));
const latencies: number[] = [];
const sentAt = new Map<string, number>();
healthy[0]!.on('chat', (_sender, text) => {
  const at = text === undefined ? undefined : sentAt.get(text.slice(0, 24));
  if (at !== undefined) latencies.push(performance.now() - at);
});
function sendFrom(member: ChatMember): void {
  if (!member.isOpen) return;
  const sequence = sent.get(member.username)! + 1;
  sent.set(member.username, sequence);
  const text = numberedText(member.username, sequence, 200);
  if (latencies.length < 200_000) sentAt.set(text.slice(0, 24), performance.now());
  member.send(member.chatLine(text));
}
const timers: NodeJS.Timeout[] = healthy.map((member) =>
  setInterval(() => sendFrom(member), 1000 / options.rate),
);

// --- faults -------------------------------------------------------------------------------------------

/** A client that joins, writes half of a long line, and dies (reset) before finishing it. */
async function killedMidWrite(): Promise<void> {
  for (let i = 0; running; i++) {
    try {
      const member = await ChatMember.join({ url, username: `killed${i}`, password: PASSWORD, keys: key(i) });
      const line = member.chatLine('k'.repeat(32 * 1024));
      const raw = rawAccess(member.connection);
      if (raw.kind === 'bytes') {
        raw.write(Buffer.from(line.slice(0, line.length >> 1)));
        raw.reset();
      } else {
        member.connection.destroy();
      }
      counts.killedMidWrite++;
    } catch (error) {
      noteError('killed mid-write', error);
    }
    await sleep(200);
  }
}

/** Members reset while the server relays a burst from a healthy member. */
async function resetMidBroadcast(): Promise<void> {
  for (let round = 0; running; round++) {
    const victims: ChatMember[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        victims.push(
          await ChatMember.join({
            url,
            username: `reset${round}-${i}`,
            password: PASSWORD,
            keys: key(i),
            decrypt: false,
          }),
        );
      }
      const sender = healthy[round % healthy.length]!;
      for (let i = 0; i < 200; i++) sendFrom(sender);
      // The burst is on its way: the server is relaying it to these right now.
      await sleep(1);
      for (const victim of victims) {
        const raw = rawAccess(victim.connection);
        if (raw.kind === 'bytes') raw.reset();
        else victim.connection.destroy();
      }
      counts.resetMidBroadcast += victims.length;
    } catch (error) {
      noteError('reset mid-broadcast', error);
      for (const victim of victims) victim.connection.destroy();
    }
    await sleep(2000);
  }
}

/** A member that sends its handshake and then stops reading. */
const stalled = { connection: await connect(url), closedAtMs: undefined as number | undefined };
// Listening releases the input held for a caller (see InputHold); there is none to read here.
stalled.connection.on('close', () => {});
stalled.connection.send(encodeMessage(handshakeMessage('stalled', PASSWORD, key(0).publicKeyPem)));
stalled.connection.pause();
// The stalled member cannot tell it was cut (it does not read); the others are told.
healthy[0]!.on('message', (message) => {
  if (message.type === 'system' && message.message === 'stalled has left the chat')
    stalled.closedAtMs ??= performance.now();
});

/** Connections that never send a handshake, kept at `--idle` by reopening those the server closes. */
const idle = new Set<Connection>();
function reopenIdle(): void {
  if (running) setTimeout(openIdle, 10);
}
function openIdle(): void {
  if (!running) return;
  counts.idleOpened++;
  connect(url).then((connection) => {
    idle.add(connection);
    connection.on('close', () => {
      idle.delete(connection);
      reopenIdle();
    });
  }, reopenIdle);
}
for (let i = 0; i < options.idle; i++) openIdle();

const rss: { second: number; rssMB: number }[] = [];
const started = performance.now();
const sampler = setInterval(() => {
  const sample = pid === undefined ? undefined : sampleProcess(pid);
  rss.push({
    second: Math.round((performance.now() - started) / 1000),
    rssMB: Math.round((sample?.rssBytes ?? 0) / 1e5) / 10,
  });
}, 5000);

log(
  `${options.healthy} healthy members at ${options.rate} msg/s each, with faults, for ${options.seconds} s`,
);
const faults = [killedMidWrite(), resetMidBroadcast()];
await sleep(options.seconds * 1000);
running = false;
for (const timer of timers) clearInterval(timer);
await Promise.all(faults);
clearInterval(sampler);

// Let the last messages arrive: until every healthy member has everything, or 10 s.
const expected = () => [...sent.values()].reduce((a, b) => a + b, 0);
const receivedBy = (member: ChatMember) =>
  [...sent.keys()].reduce((sum, name) => sum + (member.from.get(name)?.received ?? 0), 0);
for (
  let waited = 0;
  waited < 10_000 && healthy.some((member) => receivedBy(member) < expected());
  waited += 100
) {
  await sleep(100);
}

let serverMetrics: Record<string, number> = {};
try {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  serverMetrics = Object.fromEntries(
    text
      .split('\n')
      .filter((line) =>
        /^ecp_(slow_reader|handshake_failures_total\{reason="handshake_timeout|connections |users |input_pauses|output_budget|messages_relayed)/.test(
          line,
        ),
      )
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return [line.slice(0, at), Number(line.slice(at + 1))];
      }),
  );
} catch (error) {
  noteError('metrics', error);
}

const perMember = healthy.map((member) => {
  const outOfOrder = [...sent.keys()].reduce(
    (sum, name) => sum + (member.from.get(name)?.outOfOrder ?? 0),
    0,
  );
  return { name: member.username, received: receivedBy(member), outOfOrder, open: member.isOpen };
});
latencies.sort((a, b) => a - b);
const quantile = (q: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
const result = {
  target: target.description,
  seconds: options.seconds,
  healthySent: expected(),
  healthy: perMember,
  lost: perMember.reduce((sum, member) => sum + (expected() - member.received), 0),
  latencyMs: { p50: quantile(0.5), p99: quantile(0.99), max: latencies.at(-1) ?? 0 },
  faults: {
    killedMidWrite: counts.killedMidWrite,
    resetMidBroadcast: counts.resetMidBroadcast,
    idleConnectionsOpened: counts.idleOpened,
    idleOpenAtEnd: idle.size,
    stalled: {
      bytesReceived: stalled.connection.bytesReceived,
      disconnectedAfterSeconds:
        stalled.closedAtMs === undefined ? null : Math.round((stalled.closedAtMs - started) / 1000),
    },
    errors: counts.faultErrors,
  },
  serverMetrics,
  rss,
};
const ok = result.lost === 0 && perMember.every((member) => member.open && member.outOfOrder === 0);

console.log(`faults: ${options.seconds} s against ${result.target}`);
console.log(
  `  healthy: ${options.healthy} members, ${result.healthySent} messages sent, each should reach all ${options.healthy}`,
);
for (const member of perMember) {
  console.log(
    `    ${member.name}: ${member.received}/${result.healthySent}, ${member.outOfOrder} out of order, ${member.open ? 'connected' : 'DISCONNECTED'}`,
  );
}
console.log(
  `  latency (healthy0, send to receive): p50 ${quantile(0.5).toFixed(1)} ms, p99 ${quantile(0.99).toFixed(1)} ms, max ${(latencies.at(-1) ?? 0).toFixed(1)} ms`,
);
console.log(
  `  killed mid-write: ${counts.killedMidWrite}; reset mid-broadcast: ${counts.resetMidBroadcast}; idle connections opened: ${counts.idleOpened} (${idle.size} open at the end)`,
);
console.log(
  `  stalled reader: ${stalled.closedAtMs === undefined ? 'still a member' : `disconnected by the server after ${result.faults.stalled.disconnectedAfterSeconds} s`}`,
);
if (counts.faultErrors.length > 0)
  console.log(`  fault clients' own errors: ${counts.faultErrors.slice(0, 5).join('; ')}`);
console.log(`  server RSS MB every 5 s: ${rss.map((sample) => sample.rssMB).join(' ')}`);
console.log(`  server: ${JSON.stringify(serverMetrics)}`);
console.log(ok ? 'PASS' : 'FAIL');
if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);

for (const connection of idle) connection.destroy();
stalled.connection.destroy();
for (const member of healthy) member.connection.destroy();
await finish(ok);
