/**
 * The admin API's HTTP server (node:http, JSON in and out), on a port of its own: every request is
 * throttled if its source guessed a wrong token recently, then authenticated, then routed (routes.ts). Every
 * refusal is a 4xx with `{"error": ...}` and a counter; every action one log line and a counter.
 * Nothing a request holds can crash the server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.ts';
import type { ServerStats } from '../stats.ts';
import type { AdminToken } from './auth.ts';
import { FailureThrottle, type ThrottleSettings } from './failure-throttle.ts';
import { type AdminActions, AdminRequestError, ROUTES } from './routes.ts';

/** Request bodies are a few fields: anything longer is refused unread. */
export const MAX_BODY_BYTES = 16 * 1024;
/** Connections to the admin port at once; a bench's few dozen fit. */
const MAX_CONNECTIONS = 256;
const REQUEST_TIMEOUT_MS = 10_000;

export interface AdminServerOptions {
  host: string;
  port: number;
  token: AdminToken;
  actions: AdminActions;
  stats: ServerStats;
  logger: Logger;
  throttle?: Partial<ThrottleSettings>;
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const throttle = new FailureThrottle(options.throttle);
  const logger = options.logger;
  const server: Server = createServer((request, response) => {
    handle(request, response, options, throttle, logger).catch((error: unknown) => {
      logger.error({ err: error, path: request.url }, 'admin request failed');
      if (!response.headersSent) answer(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: AdminServerOptions,
  throttle: FailureThrottle,
  logger: Logger,
): Promise<void> {
  const { stats } = options;
  const source = request.socket.remoteAddress ?? 'unknown';
  const waitMs = throttle.waitMs(source);
  if (waitMs > 0) {
    // Not logged: a guesser would fill the log. The counter says how often.
    stats.adminRejections.throttled++;
    answer(
      response,
      429,
      { error: `too many failed attempts from ${source}; retry in ${Math.ceil(waitMs / 1000)} s` },
      { 'retry-after': String(Math.ceil(waitMs / 1000)), connection: 'close' },
    );
    return;
  }
  if (!options.token.accepts(request.headers.authorization)) {
    stats.adminRejections.unauthorized++;
    // Only a wrong token is a guess worth slowing down; a request without one guessed nothing.
    const guessed = request.headers.authorization !== undefined;
    const waitMs = guessed ? throttle.failed(source) : 0;
    logger.warn(
      { remote: source, method: request.method, path: pathOf(request), ...(guessed ? { waitMs } : {}) },
      guessed ? 'admin request with a wrong token' : 'admin request without a token',
    );
    answer(
      response,
      401,
      { error: 'missing or wrong token (Authorization: Bearer TOKEN)' },
      { 'www-authenticate': 'Bearer realm="ecp-admin"', connection: 'close' },
    );
    return;
  }
  throttle.succeeded(source);
  try {
    const route = ROUTES[pathOf(request)];
    if (route === undefined)
      throw new AdminRequestError(404, 'not_found', `no such endpoint: ${pathOf(request)}`);
    if (request.method !== route.method) {
      response.setHeader('allow', route.method);
      throw new AdminRequestError(405, 'method_not_allowed', `${pathOf(request)} takes ${route.method}`);
    }
    const body = route.method === 'POST' ? parseJson(await readBody(request)) : undefined;
    const { answer: result, logged } = route.handle(options.actions, body);
    stats.adminActions[route.action]++;
    logger.info({ action: route.action, remote: source, ...logged }, 'admin action');
    answer(response, 200, result);
  } catch (error) {
    if (!(error instanceof AdminRequestError)) throw error;
    stats.adminRejections[error.rejection]++;
    logger.info(
      {
        remote: source,
        method: request.method,
        path: pathOf(request),
        status: error.status,
        error: error.message,
      },
      'admin request refused',
    );
    // A body left unread (too large) would keep the connection busy: close it after the answer.
    answer(
      response,
      error.status,
      { error: error.message },
      error.status === 413 ? { connection: 'close' } : {},
    );
  }
}

function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?', 1)[0] ?? '/';
}

/**
 * The request's body, up to MAX_BODY_BYTES. A longer one is refused without reading the rest (the
 * answer closes the connection); a request that ends early rejects.
 */
function readBody(request: IncomingMessage): Promise<string> {
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = (error: AdminRequestError) => {
      request.off('data', onData);
      request.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_BODY_BYTES) stop(tooLarge());
      else chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('close', () => {
      if (!request.complete) stop(new AdminRequestError(400, 'bad_request', 'the request ended early'));
    });
  });
}

function tooLarge(): AdminRequestError {
  return new AdminRequestError(413, 'too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
}

/** An empty body is no fields at all. */
function parseJson(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AdminRequestError(400, 'bad_request', `the body is not JSON: ${(error as Error).message}`);
  }
}

function answer(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    })
    .end(`${JSON.stringify(body)}\n`);
}
