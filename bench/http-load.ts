/**
 * The HTTP load of `ecp bench http` and bench/scripts/http-side.ts: autocannon (as a library) on
 * the admin API's announce, and on GET /metrics and the page, all at once; and what the report
 * keeps of each endpoint's result.
 */
import autocannon, { type Result as AutocannonResult, type Options } from 'autocannon';
import type { HttpBenchTarget } from './http-target.ts';
import type { HttpBenchConfig, HttpEndpointResult } from './report-schema.ts';

/** What autocannon measured at each endpoint; undefined for an endpoint not loaded. */
export type HttpLoadResults = [
  announce: AutocannonResult,
  metrics: AutocannonResult | undefined,
  page: AutocannonResult | undefined,
];

/**
 * The HTTP load, at once: POST /announce (texts `<prefix><random id>`), and GET /metrics and the
 * page when their URLs are given. It ends after `config.durationSeconds`, or at `stop()`.
 */
export function startHttpLoad(
  target: Pick<HttpBenchTarget, 'adminUrl' | 'token' | 'metricsUrl'>,
  pageUrl: string | undefined,
  config: Pick<HttpBenchConfig, 'connections' | 'getConnections' | 'rate' | 'durationSeconds'>,
  prefix: string,
): { results: Promise<HttpLoadResults>; stop(): void } {
  const instances: { stop(): void }[] = [];
  const load = (options: Options) =>
    new Promise<AutocannonResult>((resolve, reject) => {
      instances.push(
        autocannon({ duration: config.durationSeconds, timeout: 10, ...options }, (error, result) =>
          error ? reject(error) : resolve(result),
        ),
      );
    });
  const results = Promise.all([
    load({
      url: new URL('/announce', target.adminUrl).href,
      method: 'POST',
      connections: config.connections,
      ...(config.rate > 0 ? { overallRate: config.rate } : {}),
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `${prefix}[<id>]` }),
      idReplacement: true,
    }),
    target.metricsUrl === undefined
      ? undefined
      : load({ url: target.metricsUrl, connections: config.getConnections }),
    pageUrl === undefined ? undefined : load({ url: pageUrl, connections: config.getConnections }),
  ]);
  return {
    results,
    stop: () => {
      for (const instance of instances) instance.stop();
    },
  };
}

/** What the report keeps of one endpoint's autocannon result. */
export function endpointResult(result: AutocannonResult): HttpEndpointResult {
  const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  const latency = result.latency;
  return {
    url: result.url,
    requests: answered,
    requestsPerSecond: round(answered / result.duration, 1),
    non2xx: result.non2xx,
    errors: result.errors,
    latency: {
      meanMs: round(latency.mean, 3),
      p50Ms: latency.p50,
      p90Ms: latency.p90,
      p99Ms: latency.p99,
      p999Ms: latency.p99_9,
      maxMs: latency.max,
    },
    throughputMBps: round(result.throughput.average / 1e6, 3),
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
