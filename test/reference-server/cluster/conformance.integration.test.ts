/**
 * The conformance kit's core profile against one room served by two cluster nodes on one Redis,
 * each scenario's members split over both (`ecp conformance --target A,B`): what a v1 client
 * sees of a clustered room is what it sees of one server.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConformanceSummary } from '../../../conformance/reports/summary.ts';
import { type EcpServer, startServer } from '../../../reference-server/index.ts';
import { RedisServer, redisMissing } from '../../support/redis-server.ts';
import { runEcp } from '../../support/run-ecp.ts';

const PASSWORD = 'secret123';
const missing = redisMissing();

describe.skipIf(missing !== undefined)(
  `two cluster nodes under the conformance kit${missing ? ` (${missing})` : ''}`,
  () => {
    let redis: RedisServer;
    const nodes: EcpServer[] = [];
    const out = mkdtempSync(join(tmpdir(), 'ecp-cluster-conformance-'));

    beforeAll(async () => {
      redis = await RedisServer.start();
      for (const nodeId of ['a', 'b']) {
        nodes.push(
          await startServer({
            host: '127.0.0.1',
            port: 0,
            password: PASSWORD,
            logLevel: 'silent',
            cluster: { url: redis.url, room: 'conformance', nodeId },
          }),
        );
      }
    });

    afterAll(async () => {
      await Promise.all(nodes.map((node) => node.close()));
      await redis?.stop();
      rmSync(out, { recursive: true, force: true });
    });

    it('passes the core profile with every scenario’s members split over the two nodes', async () => {
      const [a, b] = nodes.map((node) => node.endpoints[0]!);
      const { code, stdout } = await runEcp([
        'conformance',
        '--profile',
        'core',
        '--target',
        `${a},${b}`,
        '--password',
        PASSWORD,
        '--out',
        out,
      ]);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ConformanceSummary;
      const failed = summary.scenarios
        .filter((item) => item.status !== 'passed' && item.status !== 'skipped')
        .map((item) => item.name);
      expect(failed, stdout).toEqual([]);
      expect(code).toBe(0);
      expect(summary.verdict).toBe('pass');
      const placements = summary.scenarios.flatMap((item) =>
        item.notes.filter((note) => note.startsWith('Endpoints: ')),
      );
      expect(placements).toContain(`Endpoints: alice on ${a}, bob on ${b}.`);
    }, 180_000);
  },
);
