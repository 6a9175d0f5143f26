/**
 * Prometheus metrics and health, on a port of their own. Each server has its own Registry (never
 * prom-client's global one), so several servers can run in one process. The values are read from
 * the server's plain ServerStats when scraped, so the hot path never calls into prom-client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ServerStats } from './stats.ts';

/** A gauge in `registry` that reads its value from the stats when scraped: the hot path only counts. */
export function gaugeReading(registry: Registry) {
  return (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
}

/** A counter in `registry` that reads its total from the stats when scraped. */
export function counterReading(registry: Registry) {
  return (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
}

export function createMetricsRegistry(stats: ServerStats): Registry {
  const registry = new Registry();
  const gauge = gaugeReading(registry);
  const counter = counterReading(registry);
  const labelledCounter = (name: string, help: string, label: string, read: () => Record<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, count] of Object.entries(read())) this.inc({ [label]: value }, count);
      },
    });

  gauge('ecp_connections', 'Open client connections.', () => stats.connectionsOpen);
  gauge('ecp_users', 'Members of the room.', () => stats.users);
  counter(
    'ecp_connections_accepted_total',
    'Connections accepted, refused ones included.',
    () => stats.connectionsAccepted,
  );
  counter('ecp_messages_relayed_total', 'Chat messages relayed to the room.', () => stats.messagesRelayed);
  counter(
    'ecp_deliveries_total',
    'Lines queued for clients (relayed copies, echoes and notices).',
    () => stats.deliveries,
  );
  counter('ecp_bytes_received_total', 'Bytes read from clients.', () => stats.bytesReceived);
  counter('ecp_bytes_sent_total', 'Bytes written to clients.', () => stats.bytesSent);
  labelledCounter(
    'ecp_handshake_failures_total',
    'Handshakes refused, by reason.',
    'reason',
    () => stats.handshakeFailures,
  );
  labelledCounter('ecp_bad_input_total', 'Bad input lines, by kind.', 'kind', () => stats.badInput);
  labelledCounter(
    'ecp_slow_reader_disconnects_total',
    'Clients disconnected for not reading, by rule: timeout (output not drained for the slow-reader timeout) or cap (pending output over the limit).',
    'rule',
    () => stats.slowReaderDisconnects,
  );
  gauge(
    'ecp_output_queued_bytes',
    'Output held for all clients together that the kernel has not taken yet.',
    () => stats.outputQueuedBytes,
  );
  gauge(
    'ecp_input_paused_connections',
    'Connections whose input waits for the room output to drain, or for their turn.',
    () => stats.inputPaused,
  );
  counter(
    'ecp_input_pauses_total',
    'Times a connection stopped being read because the room output had not drained.',
    () => stats.inputPauses,
  );
  counter(
    'ecp_output_budget_reached_total',
    'Times the output queued for all clients together reached --max-total-output-bytes.',
    () => stats.outputBudgetReached,
  );
  counter(
    'ecp_rate_limited_messages_total',
    'Messages that waited for their connection rate limit (--max-messages-per-second).',
    () => stats.rateLimited,
  );
  counter(
    'ecp_key_rotations_total',
    'Room keys replaced: a member left (--rotate-key-on-leave), or an operator asked (admin API).',
    () => stats.keyRotations,
  );
  labelledCounter(
    'ecp_admin_actions_total',
    'Admin API actions done, by action.',
    'action',
    () => stats.adminActions,
  );
  labelledCounter(
    'ecp_admin_rejected_total',
    'Admin API requests refused, by reason (unauthorized: no or a wrong token; throttled: refused unchecked after recent failures).',
    'reason',
    () => stats.adminRejections,
  );
  return registry;
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text) and `GET /healthz` (200 while serving, 503 while shutting down). */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  isHealthy: () => boolean;
}): Promise<MetricsServer> {
  const { registry, isHealthy } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/healthz') {
      const healthy = isHealthy();
      response
        .writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(healthy ? 'ok\n' : 'shutting down\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    } else {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
