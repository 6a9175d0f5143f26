/**
 * The burst of docs/benchmarks.md ("Flow control"), reproducible: alice writes N chat lines of
 * about B bytes as fast as her socket takes them and reads her echoes as she can; bob reads
 * everything as fast as he can from his own process; carol has stopped reading.
 *
 *   npx tsx bench/scripts/slow-reader-burst.ts [--spawn CMD | --target URL] [--lines 3000]
 *     [--line-bytes 8192] [--bob-in-process] [--no-carol] [--json FILE]
 *
 * Default target: this tree's reference server (default limits), spawned on a free port. Prints
 * who was disconnected and why (from the server's log when it is spawned), what bob and alice received, and the server's RSS. Exit code 0 when bob and alice
 * stay connected and receive every message in order (and carol, when present, is disconnected),
 * 1 otherwise, 2 for bad options.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateRsaKeyPair } from '../../protocol/index.ts';
import { parseEndpoint } from '../../transport/index.ts';
import { ChatMember, numberedText, plaintextForLine } from '../chat-member.ts';
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

/** Alice keeps at most this much queued in her own socket before waiting for it to drain. */
const SENDER_QUEUE_BYTES = 1024 * 1024;
/** The run ends when nothing has arrived for this long. */
const IDLE_END_MS = 15_000;

interface BobReport {
  received: number;
  outOfOrder: number;
  open: boolean;
  closeError: string | undefined;
}

// --- bob, in a process of his own ------------------------------------------------------------------

if (process.argv[2] === '--role-bob') {
  const [url, password, sender, total] = process.argv.slice(3) as [string, string, string, string];
  const member = await ChatMember.join({
    url,
    username: 'bob',
    password,
    keys: await generateRsaKeyPair(),
  });
  const report = (): BobReport => {
    const from = member.received(sender);
    return {
      received: from.received,
      outOfOrder: from.outOfOrder,
      open: member.isOpen,
      closeError: member.closedInfo?.error?.code,
    };
  };
  process.on('message', (request) => {
    if (request === 'report') process.send?.(report());
    if (request === 'exit') {
      member.connection.destroy();
      process.exit(0);
    }
  });
  member.on('chat', () => {
    if (member.received(sender).received === Number(total)) process.send?.({ done: report() });
  });
  member.on('closed', () => process.send?.({ done: report() }));
  process.send?.('joined');
} else {
  await main();
}

async function main(): Promise<void> {
  const options = scriptOptions(
    import.meta.filename,
    'Alice writes a burst of long lines as fast as her socket takes them, bob reads everything from his own process, carol has stopped reading.',
    {
      spawn: spawnOption(REFERENCE_SERVER),
      target: { type: 'string', describe: 'A server already running (tcp://HOST:PORT) instead of --spawn' },
      password: { type: 'string', default: PASSWORD, describe: 'With --target: its password' },
      lines: { type: 'number', default: 3000, min: 1, whole: true, describe: 'Lines in the burst' },
      'line-bytes': { type: 'number', default: 8192, min: 256, whole: true, describe: 'Bytes per line' },
      'bob-in-process': { type: 'boolean', default: false, describe: "Bob reads in alice's process" },
      carol: { type: 'boolean', default: true, describe: 'Carol joins and stops reading (--no-carol: not)' },
      json: { type: 'string', describe: 'Write the result here' },
    },
  );
  const server = await startServer(
    options.target === undefined
      ? spawned(options.spawn)
      : { kind: 'running', endpoint: parseEndpoint(options.target), password: options.password },
  );
  const { target, url } = server;
  const password = target.password;
  const pid = findListeningPid(target.endpoint.port);
  const rss: { ms: number; mb: number }[] = [];
  const started = performance.now();
  const sampler = setInterval(() => {
    const sample = pid === undefined ? undefined : sampleProcess(pid);
    if (sample) rss.push({ ms: Math.round(performance.now() - started), mb: sample.rssBytes / 1e6 });
  }, 100);

  const [aliceKeys, carolKeys, bobKeys] = await Promise.all([
    generateRsaKeyPair(),
    generateRsaKeyPair(),
    generateRsaKeyPair(),
  ]);
  const join = (username: string, keys = aliceKeys) => ChatMember.join({ url, username, password, keys });

  const carol = options.carol ? await join('carol', carolKeys) : undefined;
  carol?.connection.pause();

  // Bob: his own process (as in the original report), or this one (then he reads a little slower than alice writes).
  let bobReport: () => Promise<BobReport>;
  let bobDone: Promise<BobReport>;
  let stopBob: () => void;
  if (options['bob-in-process']) {
    const bob = await join('bob', bobKeys);
    const report = (): BobReport => ({
      received: bob.received('alice').received,
      outOfOrder: bob.received('alice').outOfOrder,
      open: bob.isOpen,
      closeError: bob.closedInfo?.error?.code,
    });
    bobReport = async () => report();
    bobDone = new Promise((resolve) => {
      bob.on('chat', () => bob.received('alice').received === options.lines && resolve(report()));
      bob.on('closed', () => resolve(report()));
    });
    stopBob = () => bob.connection.destroy();
  } else {
    const child = fork(
      fileURLToPath(import.meta.url),
      ['--role-bob', url, password, 'alice', String(options.lines)],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('message', (message) =>
        message === 'joined' ? resolve() : reject(new Error(String(message))),
      );
      child.once('exit', (code) => reject(new Error(`bob's process exited (${code}) before joining`)));
    });
    bobDone = new Promise((resolve) =>
      child.on('message', (message) => {
        if (typeof message === 'object' && message !== null && 'done' in message)
          resolve((message as { done: BobReport }).done);
      }),
    );
    bobReport = () =>
      new Promise((resolve) => {
        const onMessage = (message: unknown) => {
          if (typeof message === 'object' && message !== null && 'received' in message) {
            child.off('message', onMessage);
            resolve(message as BobReport);
          }
        };
        child.on('message', onMessage);
        child.send('report');
      });
    stopBob = () => child.send('exit');
  }

  const alice = await join('alice');
  await new Promise((resolve) => setTimeout(resolve, 200));

  // Sealed beforehand, so the burst is paced by the socket and not by AES.
  const textBytes = plaintextForLine(options['line-bytes']);
  const lines = Array.from({ length: options.lines }, (_, i) =>
    alice.chatLine(numberedText('burst', i + 1, textBytes)),
  );
  const burstBytes = lines.reduce((sum, line) => sum + line.length, 0);
  let lastArrival = performance.now();
  alice.on('chat', () => {
    lastArrival = performance.now();
  });
  const aliceDone = new Promise<void>((resolve) => {
    alice.on('chat', () => alice.received('alice').received === options.lines && resolve());
    alice.on('closed', () => resolve());
  });

  const sendStart = performance.now();
  for (const line of lines) {
    if (!alice.isOpen) break;
    if (alice.send(line) > SENDER_QUEUE_BYTES) await alice.drained();
  }
  const sentMs = performance.now() - sendStart;

  // Both readers are done, or nothing has arrived for a while.
  let bob: BobReport | undefined;
  void bobDone.then((report) => {
    bob = report;
  });
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      const aliceFinished = !alice.isOpen || alice.received('alice').received === options.lines;
      if ((aliceFinished && bob !== undefined) || performance.now() - lastArrival > IDLE_END_MS) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  await aliceDone.then(() => undefined);
  const deliveredMs = performance.now() - sendStart;
  bob ??= await bobReport();

  // Carol reads again: she gets what the server still held for her, then (if she was cut) the end.
  let carolReceived = 0;
  let carolOpen = false;
  if (carol !== undefined) {
    carol.connection.resume();
    await new Promise((resolve) => {
      if (!carol.isOpen) resolve(undefined);
      carol.once('closed', resolve);
      setTimeout(resolve, 5000);
    });
    carolReceived = carol.received('alice').received;
    carolOpen = carol.isOpen;
  }
  clearInterval(sampler);

  const output = target.serverOutput();
  const cuts = output
    .split('\n')
    .filter((line) => line.includes('slow reader disconnected'))
    .map((line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return {
          username: entry.username,
          rule: entry.rule,
          pendingBytes: entry.pendingBytes,
          conn: entry.conn,
        };
      } catch {
        return { line };
      }
    });
  const aliceFrom = alice.received('alice');
  const peakRssMb = Math.max(0, ...rss.map((sample) => sample.mb));
  const result = {
    target: target.description,
    lines: options.lines,
    lineBytes: Math.round(burstBytes / options.lines),
    burstMB: burstBytes / 1e6,
    bobInOwnProcess: !options['bob-in-process'],
    sentMs: Math.round(sentMs),
    deliveredMs: Math.round(deliveredMs),
    alice: { received: aliceFrom.received, outOfOrder: aliceFrom.outOfOrder, open: alice.isOpen },
    bob,
    carol: carol === undefined ? undefined : { received: carolReceived, open: carolOpen },
    slowReaderDisconnects: cuts,
    serverRssMB: { first: rss[0]?.mb, peak: peakRssMb, last: rss.at(-1)?.mb },
    rss,
  };
  const ok =
    alice.isOpen &&
    aliceFrom.received === options.lines &&
    aliceFrom.outOfOrder === 0 &&
    bob.open &&
    bob.received === options.lines &&
    bob.outOfOrder === 0 &&
    (carol === undefined || !carolOpen);

  console.log(
    `burst: ${options.lines} lines of ${result.lineBytes} bytes (${result.burstMB.toFixed(1)} MB) from alice to ${result.target}`,
  );
  console.log(`  sent in ${result.sentMs} ms, delivered to alice and bob in ${result.deliveredMs} ms`);
  console.log(
    `  alice: ${aliceFrom.received}/${options.lines} echoes, ${aliceFrom.outOfOrder} out of order, ${alice.isOpen ? 'connected' : 'DISCONNECTED'}`,
  );
  console.log(
    `  bob (${result.bobInOwnProcess ? 'own process' : "alice's process"}): ${bob.received}/${options.lines}, ${bob.outOfOrder} out of order, ${bob.open ? 'connected' : `DISCONNECTED${bob.closeError ? ` (${bob.closeError})` : ''}`}`,
  );
  if (carol !== undefined)
    console.log(
      `  carol (stopped reading): ${carolReceived} received, ${carolOpen ? 'STILL CONNECTED' : 'disconnected'}`,
    );
  for (const cut of cuts) console.log(`  server: slow reader disconnected ${JSON.stringify(cut)}`);
  console.log(
    `  server RSS: ${result.serverRssMB.first?.toFixed(0)} MB before, peak ${peakRssMb.toFixed(0)} MB, ${result.serverRssMB.last?.toFixed(0)} MB after`,
  );
  console.log(ok ? 'PASS' : 'FAIL');
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);

  stopBob();
  alice.connection.destroy();
  carol?.connection.destroy();
  await finish(ok);
}
