import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RsaKeyPair } from '../../protocol/index.ts';
import type { EcpServer } from '../../reference-server/index.ts';
import { handshake, joinAs, ServerHarness } from '../support/server-harness.ts';
import { testKeys } from '../support/test-keys.ts';

let keys: RsaKeyPair[];
const harness = new ServerHarness('pw');
beforeAll(async () => {
  keys = await testKeys();
});
afterEach(() => harness.stop());

const start = () => harness.start({ metricsPort: 0 });

async function scrape(
  server: EcpServer,
  path: string,
): Promise<{ status: number; body: string; type: string }> {
  const response = await fetch(`http://127.0.0.1:${server.metricsPort}${path}`);
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get('content-type') ?? '',
  };
}

function value(body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in:\n${body}`);
  return Number(line.slice(series.length + 1));
}

describe('metrics endpoint', () => {
  it('is off unless asked for', async () => {
    const server = await harness.start();
    expect(server.metricsPort).toBeUndefined();
  });

  it('serves /healthz and Prometheus /metrics with the relay counters', async () => {
    const server = await start();
    expect(server.metricsPort).toBeGreaterThan(0);
    const health = await scrape(server, '/healthz');
    expect(health).toMatchObject({ status: 200, body: 'ok\n' });

    const alice = await harness.connect();
    const bob = await harness.connect();
    const wrong = await harness.connect();
    await joinAs(alice, 'alice', 'pw', keys[0]!);
    await joinAs(bob, 'bob', 'pw', keys[1]!);
    await alice.nextN(2);
    handshake(wrong, 'eve', 'nope', keys[2]!);
    await wrong.closed();
    alice.sendRaw('not json\n');
    for (let i = 0; i < 3; i++) alice.send({ type: 'message', message: `m${i}`, encrypted: false });
    await bob.nextN(3);
    await alice.nextN(3);

    const metrics = await scrape(server, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/^text\/plain/);
    const body = metrics.body;
    expect(value(body, 'ecp_users')).toBe(2);
    expect(value(body, 'ecp_connections')).toBe(2);
    expect(value(body, 'ecp_connections_accepted_total')).toBe(3);
    expect(value(body, 'ecp_messages_relayed_total')).toBe(3);
    // 4 + 4 join lines, 2 joined notices, 6 chat copies, 1 auth_error.
    expect(value(body, 'ecp_deliveries_total')).toBe(4 + 4 + 2 + 6 + 1);
    expect(value(body, 'ecp_bytes_sent_total')).toBeGreaterThan(1000);
    expect(value(body, 'ecp_bytes_received_total')).toBeGreaterThan(1000);
    expect(value(body, 'ecp_handshake_failures_total{reason="invalid_password"}')).toBe(1);
    expect(value(body, 'ecp_handshake_failures_total{reason="server_full"}')).toBe(0);
    expect(value(body, 'ecp_bad_input_total{kind="invalid_json"}')).toBe(1);
    expect(value(body, 'ecp_slow_reader_disconnects_total{rule="timeout"}')).toBe(0);
    expect(value(body, 'ecp_slow_reader_disconnects_total{rule="cap"}')).toBe(0);
    expect(value(body, 'ecp_output_queued_bytes')).toBe(0);
    expect(value(body, 'ecp_input_paused_connections')).toBe(0);
    expect(value(body, 'ecp_key_rotations_total')).toBe(0);
    expect(body).toContain('# TYPE ecp_deliveries_total counter');
    expect(body).toContain('# TYPE ecp_users gauge');

    // Scraping twice reports the same totals (counters are set from the stats, not added to).
    expect(value((await scrape(server, '/metrics')).body, 'ecp_messages_relayed_total')).toBe(3);
    expect((await scrape(server, '/nope')).status).toBe(404);
  });

  it('keeps two servers apart (one registry each)', async () => {
    const one = await start();
    const two = await start();
    const alice = await harness.connect(one.port);
    await joinAs(alice, 'alice', 'pw', keys[0]!);
    expect(value((await scrape(one, '/metrics')).body, 'ecp_users')).toBe(1);
    expect(value((await scrape(two, '/metrics')).body, 'ecp_users')).toBe(0);
  });

  it('closes the metrics port with the server', async () => {
    const server = await start();
    const port = server.metricsPort;
    await server.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
