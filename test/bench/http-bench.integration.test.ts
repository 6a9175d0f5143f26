/**
 * `ecp bench http`, short runs: the spawned reference server by default, a running one by URL, and
 * a report that has every field. Tiny loads; no performance is asserted.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpBenchReport } from '../../bench/report-schema.ts';
import { type EcpServer, startServer } from '../../reference-server/index.ts';
import { runEcp } from '../support/run-ecp.ts';

const directory = mkdtempSync(join(tmpdir(), 'ecp-bench-http-test-'));
const SHORT = [
  '--duration',
  '1',
  '--clients',
  '3',
  '--connections',
  '2',
  '--get-connections',
  '1',
  '--drain',
  '2',
];
const TOKEN = 'bench-http-test-token-0123';

let server: EcpServer;

beforeAll(async () => {
  server = await startServer({
    port: 0,
    password: 'secret123',
    logLevel: 'silent',
    metricsPort: 0,
    admin: { port: 0, token: TOKEN },
  });
});

afterAll(() => server.close());

describe('ecp bench http', () => {
  it('measures the spawned reference server: announce, notices, /metrics; the report has the fields', async () => {
    const json = join(directory, 'spawned.json');
    const md = join(directory, 'spawned.md');
    const run = await runEcp(['bench', 'http', ...SHORT, '--quiet', '--json', json, '--md', md]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^announce requests\/s +[\d,]+/m);
    expect(run.stdout).toMatch(/^notice deliveries\/s +[\d,]+/m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as HttpBenchReport;
    expect(report).toMatchObject({
      schema: 'ecp-bench/1',
      kind: 'http',
      config: { clients: 3, connections: 2 },
    });
    const [only] = report.runs;
    expect(only!.announce.requests).toBeGreaterThan(0);
    expect(only!.announce.non2xx).toBe(0);
    expect(only!.announce.latency.p99Ms).toBeGreaterThanOrEqual(only!.announce.latency.p50Ms);
    expect(only!.notices.announcements).toBeGreaterThan(0);
    expect(only!.notices.expected).toBe(only!.notices.announcements * 3);
    expect(only!.notices).toMatchObject({ delivered: only!.notices.expected, lost: 0, deliveryRatio: 1 });
    expect(only!.notices.deliveriesPerSecond).toBeGreaterThan(0);
    expect(only!.metrics!.requests).toBeGreaterThan(0);
    expect(only!.metrics!.non2xx).toBe(0);
    expect(only!.server.cpuCores).not.toBeNull();
    expect(report.summary.announcesPerSecond.median).toBe(only!.announce.requestsPerSecond);
    // The page is measured when the WebSocket listener serves one; otherwise the report says why.
    if (only!.page === null) expect(report.notes.join('\n')).toMatch(/web page not measured/);
    expect(readFileSync(md, 'utf8')).toMatch(/^\| notice deliveries\/s \|/m);
  });

  it('measures a running server by its URLs', async () => {
    const json = join(directory, 'running.json');
    const run = await runEcp(
      [
        'bench',
        'http',
        ...SHORT,
        '--quiet',
        '--admin-url',
        `http://127.0.0.1:${server.adminPort}`,
        '--target',
        `tcp://127.0.0.1:${server.port}`,
        '--password',
        'secret123',
        '--metrics-url',
        `http://127.0.0.1:${server.metricsPort}/metrics`,
        '--json',
        json,
      ],
      { ECP_ADMIN_TOKEN: TOKEN },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as HttpBenchReport;
    expect(report.target).toMatchObject({ kind: 'running', admin: `http://127.0.0.1:${server.adminPort}` });
    expect(report.runs[0]!.notices.lost).toBe(0);
    expect(report.notes).toContain(
      'GET of the web page not measured: no WebSocket listener or page URL given (--page-url).',
    );
  });

  it('a wrong token is one clear error, exit 1; flags of a running server alone are exit 2', async () => {
    const wrong = await runEcp(
      [
        'bench',
        'http',
        ...SHORT,
        '--admin-url',
        `http://127.0.0.1:${server.adminPort}`,
        '--target',
        `tcp://127.0.0.1:${server.port}`,
        '--password',
        'secret123',
      ],
      { ECP_ADMIN_TOKEN: 'not-the-token-at-all' },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused the token (401)');
    const alone = await runEcp(['bench', 'http', '--target', 'tcp://127.0.0.1:1']);
    expect(alone).toMatchObject({
      code: 2,
      stderr: 'ecp bench http: --target goes with --admin-url (a running server)\n',
    });
  });
});
