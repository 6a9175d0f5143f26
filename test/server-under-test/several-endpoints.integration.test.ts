/**
 * One room reached at several endpoints: a reference server with two TCP listeners (one room, the
 * same contract as two nodes of a cluster), checked by `ecp conformance --target A,B` with each
 * scenario's clients split over both, and loaded by `ecp bench --target A,B`. B is reached through
 * a relay that counts connections, so the server side shows that B was used, not only the reports.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/index.ts';
import type { ConformanceSummary } from '../../conformance/reports/summary.ts';
import { type EcpServer, startServer } from '../../reference-server/index.ts';
import { runEcp } from '../support/run-ecp.ts';

const PASSWORD = 'secret123';

/** A TCP relay on a free port to `port`, counting the connections it relays. */
async function countingRelay(
  port: number,
): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relay: Server = createServer((client) => {
    accepted++;
    const upstream = connect(port, '127.0.0.1');
    track(client);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port: relayPort } = relay.address() as { port: number };
  return {
    url: `tcp://127.0.0.1:${relayPort}`,
    count: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}

describe('a room at two endpoints', () => {
  let server: EcpServer;
  let relay: Awaited<ReturnType<typeof countingRelay>>;
  let a: string;
  let b: string;
  const out = mkdtempSync(join(tmpdir(), 'ecp-several-endpoints-'));

  beforeAll(async () => {
    server = await startServer({
      listen: ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:0'],
      password: PASSWORD,
      logLevel: 'silent',
    });
    a = server.endpoints[0]!;
    relay = await countingRelay(Number(new URL(server.endpoints[1]!).port));
    b = relay.url;
  });

  afterAll(async () => {
    await relay?.close();
    await server?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('passes the core profile with each scenario’s members split over both endpoints', async () => {
    const reports = join(out, 'conformance');
    const before = relay.count();
    const { code, stdout, stderr } = await runEcp([
      'conformance',
      '--profile',
      'core',
      '--target',
      `${a},${b}`,
      '--password',
      PASSWORD,
      '--out',
      reports,
    ]);
    expect(stderr).toBe('');
    expect(stdout).toContain(`One room at ${a}, ${b}: each scenario's clients connect to them in turn`);
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(join(reports, 'summary.json'), 'utf8')) as ConformanceSummary;
    expect(summary.verdict).toBe('pass');
    expect(summary.target.description).toBe(`one room at ${a}, ${b}`);
    // The first client of a scenario on A, the second on B, the third on A again.
    const placements = summary.scenarios.flatMap((item) =>
      item.notes.filter((note) => note.startsWith('Endpoints: ')),
    );
    expect(placements).toContain(`Endpoints: alice on ${a}, bob on ${b}.`);
    expect(
      placements.some(
        (note) => note.includes(`on ${a}, `) && note.includes(` on ${b}, `) && note.split(' on ').length > 3,
      ),
    ).toBe(true);
    // Every scenario with two or more clients used both endpoints.
    const split = placements.filter((note) => note.includes(' on ') && note.split(' on ').length > 2);
    expect(split.length).toBeGreaterThan(40);
    for (const note of split) expect(note).toContain(` on ${b}`);
    expect(relay.count() - before).toBeGreaterThan(40);
  }, 120_000);

  it('benches the room with the clients spread over both endpoints, and compares the reports', async () => {
    const json = join(out, 'bench.json');
    const before = relay.count();
    const { code, stdout, stderr } = await runEcp([
      'bench',
      '--target',
      `${a},${b}`,
      '--password',
      PASSWORD,
      '--clients',
      '6',
      '--senders',
      '2',
      '--duration',
      '1',
      '--warmup',
      '0',
      '--drain',
      '2',
      '--quiet',
      '--json',
      json,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(
      `ecp bench: one room at ${a}, ${b}\nclients per endpoint: ${a} 3 clients, ${b} 3 clients\n`,
    );
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.target.endpoints).toEqual([
      { url: a, clients: 3 },
      { url: b, clients: 3 },
    ]);
    const [run] = report.runs;
    // Both endpoints are one room: every client received every message, from either endpoint.
    expect(run?.deliveries.lost).toBe(0);
    expect(run?.deliveries.received).toBe(run?.deliveries.expected);
    expect(run?.deliveries.expected).toBeGreaterThan(0);
    // B's three clients (and the check that B accepts connections) came through B.
    expect(relay.count() - before).toBeGreaterThanOrEqual(3);
    // The one process serving both endpoints is the server measured.
    expect(run?.server.pid).toBe(process.pid);

    const compared = await runEcp(['bench', 'compare', json, json]);
    expect(compared.code).toBe(0);
    expect(compared.stdout).toContain(`A: one room at ${a}, ${b}`);
  }, 120_000);
});
