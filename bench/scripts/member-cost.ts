/**
 * What a member costs the reference server, in bytes: the server runs in this process (so its
 * heap can be collected and read), members join it from a child process that reads everything
 * it is sent, and after each room size the heap is collected 8 times before JS heap, external
 * memory and RSS are read. The slope between the first and last size is the cost per member.
 * With `--snapshot FILE`, a heap snapshot is written at the last size (open it in Chrome's
 * DevTools, or group its nodes by constructor).
 *
 *   npm run build && node --expose-gc --import tsx bench/scripts/member-cost.ts [--members 200,400,800] [--snapshot FILE]
 */

import { type ChildProcess, fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeHeapSnapshot } from 'node:v8';
import { formatNumber } from '../report-format.ts';
import { finish, PASSWORD, scriptOptions } from './harness.ts';

const CHILD_FLAG = '--member-cost-child';

if (process.argv.includes(CHILD_FLAG)) {
  await joinOnRequest(Number(process.argv[process.argv.indexOf(CHILD_FLAG) + 1]));
} else {
  await measure();
}

/** The child: joins members up to the count the parent sends, then answers with that count. */
async function joinOnRequest(port: number): Promise<void> {
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  let joined = 0;
  const join = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const handshake = {
          type: 'handshake',
          username: `m${index}`,
          server_password: PASSWORD,
          public_key: publicKey,
        };
        socket.write(`${JSON.stringify(handshake)}\n`);
      });
      let seen: string | undefined = '';
      // Reads everything for as long as it lives; joined once its user_list arrives.
      socket.on('data', (chunk: Buffer) => {
        if (seen === undefined) return;
        seen += chunk.toString('latin1');
        if (seen.includes('"user_list"')) {
          seen = undefined;
          resolve();
        }
      });
      socket.on('error', reject);
    });
  process.on('message', async (count: number) => {
    while (joined < count) await join(joined++);
    process.send?.(count);
  });
}

async function measure(): Promise<void> {
  const options = scriptOptions(import.meta.filename, 'What a member costs the reference server, in bytes.', {
    members: { type: 'string', default: '200,400,800', describe: 'Room sizes, ascending' },
    snapshot: { type: 'string', describe: 'Write a heap snapshot at the last size to this file' },
    dist: {
      type: 'boolean',
      default: true,
      describe: 'Measure the compiled server in dist/ (npm run build), as installed; --no-dist: the sources',
    },
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    console.error('bench/scripts/member-cost.ts: run it with node --expose-gc --import tsx');
    process.exit(2);
  }
  const counts = options.members.split(',').map(Number);
  if (
    counts.length < 2 ||
    counts.some((count, i) => !Number.isInteger(count) || count < 1 || count <= (counts[i - 1] ?? 0))
  ) {
    console.error('bench/scripts/member-cost.ts: --members takes two or more ascending counts');
    process.exit(2);
  }
  // The compiled server is what an installed `ecp server` runs; through tsx, code and heap differ.
  const { startServer } = (await import(
    options.dist ? '../../dist/reference-server/index.js' : '../../reference-server/index.ts'
  )) as typeof import('../../reference-server/index.ts');
  const server = await startServer({ port: 0, password: PASSWORD, logLevel: 'silent' });
  const child: ChildProcess = fork(import.meta.filename, [CHILD_FLAG, String(server.port)], {
    execArgv: ['--import', 'tsx'],
  });
  const joinUpTo = (count: number) =>
    new Promise<void>((resolve) => {
      child.once('message', () => resolve());
      child.send(count);
    });
  const rows: { count: number; heap: number; external: number; rss: number }[] = [];
  try {
    for (const count of counts) {
      await joinUpTo(count);
      for (let i = 0; i < 8; i++) {
        await sleep(250);
        gc();
      }
      const memory = process.memoryUsage();
      rows.push({ count, heap: memory.heapUsed, external: memory.external, rss: memory.rss });
      const mb = (bytes: number) => formatNumber(bytes / 1e6, 2);
      process.stdout.write(
        `${formatNumber(count, 0)} members: JS heap ${mb(memory.heapUsed)} MB, external ${mb(memory.external)} MB, RSS ${mb(memory.rss)} MB\n`,
      );
    }
    if (options.snapshot) writeHeapSnapshot(options.snapshot);
  } finally {
    child.kill();
    await server.close();
  }
  const [first, last] = [rows[0]!, rows[rows.length - 1]!];
  const per = (key: 'heap' | 'external' | 'rss') =>
    formatNumber((last[key] - first[key]) / (last.count - first.count), 0);
  process.stdout.write(
    `per member (${first.count} to ${last.count}): JS heap ${per('heap')} B, external ${per('external')} B, RSS ${per('rss')} B\n`,
  );
  await finish();
}
