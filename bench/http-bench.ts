/**
 * `ecp bench http` as a library: autocannon drives the admin API's announce endpoint while ECP
 * clients in the room count every notice delivered, and GETs /metrics and the web client's page
 * at the same time; one report (ecp-bench/1, kind `http`) with requests/s, HTTP latency,
 * deliveries/s and loss. The target: http-target.ts; the load itself: http-load.ts.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { generateRsaKeyPair, type RsaKeyPair } from '../protocol/index.ts';
import { TOOL_VERSION } from './bench-runner.ts';
import { ChatMember } from './chat-member.ts';
import { endpointResult, startHttpLoad } from './http-load.ts';
import type { HttpBenchTarget } from './http-target.ts';
import { machineInfo } from './machine.ts';
import {
  HTTP_HEADLINE_FIGURES,
  type HttpBenchConfig,
  type HttpBenchReport,
  type HttpHeadlineFigure,
  type HttpRunResult,
  httpHeadlineFigures,
  SCHEMA,
} from './report-schema.ts';
import { findListeningPid, sampleProcess } from './server-process.ts';
import { summarizeFigures } from './summary.ts';

export const DEFAULT_HTTP_CONFIG: HttpBenchConfig = {
  clients: 20,
  connections: 10,
  rate: 0,
  getConnections: 2,
  durationSeconds: 5,
  runs: 1,
  drainSeconds: 3,
};

export class HttpBenchError extends Error {
  override readonly name = 'HttpBenchError';
}

/** Checks and completes a configuration. Throws RangeError. */
export function resolveHttpConfig(partial: Partial<HttpBenchConfig>): HttpBenchConfig {
  const given = Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
  const config = { ...DEFAULT_HTTP_CONFIG, ...given } as HttpBenchConfig;
  for (const [name, value] of Object.entries(config) as [keyof HttpBenchConfig, number][]) {
    const zeroAllowed = name === 'rate' || name === 'drainSeconds';
    if (!Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
      throw new RangeError(
        `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace('-seconds', '')} must be ${zeroAllowed ? 'zero or more' : 'positive'}, got ${value}`,
      );
    }
  }
  for (const name of ['clients', 'connections', 'getConnections', 'runs'] as const)
    config[name] = Math.floor(config[name]);
  return config;
}

export interface HttpBenchHooks {
  runStarted?: (run: number, runs: number) => void;
  note?: (text: string) => void;
}

export async function runHttpBench(
  target: HttpBenchTarget,
  partial: Partial<HttpBenchConfig>,
  label: string | null = null,
  hooks: HttpBenchHooks = {},
): Promise<HttpBenchReport> {
  const config = resolveHttpConfig(partial);
  const notes: string[] = [];
  const note = (text: string) => {
    notes.push(text);
    hooks.note?.(text);
  };
  await checkAdmin(target);
  const pageUrl = await servedPage(target.pageUrl, note);
  if (target.metricsUrl === undefined)
    note('GET /metrics not measured: no metrics URL given (--metrics-url).');
  const keys = await Promise.all([0, 1].map(() => generateRsaKeyPair()));
  const serverPid = findListeningPid(Number(new URL(target.adminUrl).port)) ?? null;
  const runs: HttpRunResult[] = [];
  for (let run = 1; run <= config.runs; run++) {
    hooks.runStarted?.(run, config.runs);
    runs.push(await runOnce(target, pageUrl, config, keys, run, serverPid));
  }
  return {
    schema: SCHEMA,
    kind: 'http',
    tool: { name: 'ecp bench', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    label,
    machine: machineInfo(),
    target: {
      kind: target.kind,
      description: target.description,
      transport: new URL(target.ecpUrl).protocol.replace(':', ''),
      admin: target.adminUrl,
    },
    config,
    runs,
    summary: summarizeFigures(
      runs.map(httpHeadlineFigures),
      Object.keys(HTTP_HEADLINE_FIGURES) as HttpHeadlineFigure[],
    ),
    notes,
  };
}

/** A status request first: a wrong token or URL is one clear error, not a run of 401s. */
async function checkAdmin(target: HttpBenchTarget): Promise<void> {
  let response: Response;
  try {
    response = await fetch(new URL('/status', target.adminUrl), {
      headers: { authorization: `Bearer ${target.token}` },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new HttpBenchError(
      `cannot reach the admin API at ${target.adminUrl}: ${cause?.code ?? (error as Error).message}`,
    );
  }
  if (response.status === 401)
    throw new HttpBenchError(`the admin API at ${target.adminUrl} refused the token (401)`);
  if (response.status !== 200)
    throw new HttpBenchError(
      `the admin API at ${target.adminUrl} answered ${response.status} to GET /status`,
    );
}

/** The page's URL when the server serves a web page there (200, HTML); else undefined, with a note saying why. */
async function servedPage(
  url: string | undefined,
  note: (text: string) => void,
): Promise<string | undefined> {
  if (url === undefined) {
    note('GET of the web page not measured: no WebSocket listener or page URL given (--page-url).');
    return undefined;
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    if (response.status === 200 && (response.headers.get('content-type') ?? '').includes('text/html'))
      return url;
    note(
      `GET of the web page not measured: ${url} answered ${response.status} ${response.headers.get('content-type') ?? ''}`.trimEnd() +
        ' (this server serves no web page; it is measured when a WebSocket listener serves one).',
    );
  } catch (error) {
    note(`GET of the web page not measured: ${url}: ${(error as Error).message}`);
  }
  return undefined;
}

async function runOnce(
  target: HttpBenchTarget,
  pageUrl: string | undefined,
  config: HttpBenchConfig,
  keys: RsaKeyPair[],
  run: number,
  serverPid: number | null,
): Promise<HttpRunResult> {
  // A fresh tag per run: notices of an earlier run still in flight are not counted in this one.
  const tag = randomBytes(3).toString('hex');
  const prefix = `bench-http ${tag} `;
  const members = await joinMembers(target, config.clients, keys, tag);
  const counts = { delivered: 0 };
  for (const member of members) {
    member.on('message', (message) => {
      if (message.type === 'system' && message.message.startsWith(prefix)) counts.delivered++;
    });
  }
  try {
    const announcementsBefore = await announcementsMade(target);
    const cpuBefore = serverPid === null ? undefined : sampleProcess(serverPid);
    const ownCpuBefore = process.cpuUsage();
    const started = performance.now();
    const [announce, metrics, page] = await startHttpLoad(target, pageUrl, config, prefix).results;
    const windowSeconds = (performance.now() - started) / 1000;
    const deliveredInWindow = counts.delivered;
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const cpuAfter = serverPid === null ? undefined : sampleProcess(serverPid);
    const announcementsAfter = await announcementsMade(target);
    const announcements =
      announcementsBefore !== undefined && announcementsAfter !== undefined
        ? announcementsAfter - announcementsBefore
        : announce['2xx'];
    const expected = announcements * config.clients;
    await drained(() => counts.delivered >= expected, config.drainSeconds * 1000);
    const delivered = counts.delivered;
    return {
      run,
      windowSeconds: round(windowSeconds, 3),
      announce: endpointResult(announce),
      notices: {
        clients: config.clients,
        announcements,
        expected,
        delivered,
        lost: Math.max(0, expected - delivered),
        deliveryRatio: expected === 0 ? 1 : round(Math.min(1, delivered / expected), 6),
        deliveriesPerSecond: round(deliveredInWindow / windowSeconds, 1),
        clientsDisconnected: members.filter((member) => !member.isOpen).length,
      },
      metrics: metrics === undefined ? null : endpointResult(metrics),
      page: page === undefined ? null : endpointResult(page),
      server: {
        pid: serverPid,
        cpuCores:
          cpuBefore === undefined || cpuAfter === undefined
            ? null
            : round((cpuAfter.cpuSeconds - cpuBefore.cpuSeconds) / windowSeconds, 3),
        peakRssBytes: cpuAfter?.peakRssBytes ?? null,
      },
      generator: {
        processCpuCores: round((ownCpu.user + ownCpu.system) / 1e6 / windowSeconds, 3),
        loadAverage1m: round(loadavg()[0] ?? 0, 2),
      },
    };
  } finally {
    await Promise.all(members.map((member) => member.leave()));
  }
}

/** Joins the counting clients, a few at a time (each join costs the server an RSA encryption). */
async function joinMembers(
  target: HttpBenchTarget,
  clients: number,
  keys: RsaKeyPair[],
  tag: string,
): Promise<ChatMember[]> {
  const members: ChatMember[] = [];
  try {
    for (let first = 0; first < clients; first += 16) {
      const batch = Array.from({ length: Math.min(16, clients - first) }, (_, i) =>
        ChatMember.join({
          url: target.ecpUrl,
          username: `h${tag}-${first + i}`,
          password: target.password,
          keys: keys[(first + i) % keys.length]!,
          decrypt: false,
        }),
      );
      members.push(...(await Promise.all(batch)));
    }
  } catch (error) {
    await Promise.all(members.map((member) => member.leave()));
    throw new HttpBenchError(
      `the counting clients could not join ${target.ecpUrl}: ${(error as Error).message}`,
    );
  }
  return members;
}

/** The server's own count of announcements, from /metrics; undefined without metrics. */
async function announcementsMade(target: HttpBenchTarget): Promise<number | undefined> {
  if (target.metricsUrl === undefined) return undefined;
  try {
    const text = await (await fetch(target.metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
    const match = /^ecp_admin_actions_total\{action="announce"\} (\d+)$/m.exec(text);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Resolves once `done()` holds, or after `timeoutMs` (what has not arrived by then is lost). */
function drained(done: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = performance.now() + timeoutMs;
    const check = () => {
      if (done() || performance.now() >= deadline) resolve();
      else setTimeout(check, 20);
    };
    check();
  });
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
