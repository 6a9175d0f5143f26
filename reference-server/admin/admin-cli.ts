/**
 * What `ecp admin` does once its arguments are parsed: one request to the admin API, and its answer
 * as a table for people or as the server's JSON for scripts; errors in one line each.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AdminTokenError, readAdminToken } from './auth.ts';
import { type AdminArgs, AdminExit } from './command.ts';
import type { AdminUser } from './routes.ts';

type Subcommand = 'status' | 'users' | 'announce' | 'kick' | 'rotate-key';

const REQUESTS: Record<Subcommand, (args: AdminArgs) => { method: string; path: string; body?: unknown }> = {
  status: () => ({ method: 'GET', path: '/status' }),
  users: () => ({ method: 'GET', path: '/users' }),
  announce: (args) => ({ method: 'POST', path: '/announce', body: { text: (args.text ?? []).join(' ') } }),
  kick: (args) => ({
    method: 'POST',
    path: '/kick',
    body: { name: args.name, ...(args.reason === undefined ? {} : { reason: args.reason }) },
  }),
  'rotate-key': () => ({ method: 'POST', path: '/rotate-key' }),
};

export async function runAdminCommand(subcommand: Subcommand, args: AdminArgs): Promise<number> {
  let base: URL;
  let token: string;
  try {
    base = adminUrl(args.url);
    token = readAdminToken({ file: args['token-file'], env: process.env.ECP_ADMIN_TOKEN }, '--token-file');
    if (!(args.timeout > 0))
      throw new AdminTokenError(`--timeout must be a positive number, got ${args.timeout}`);
  } catch (error) {
    console.error(`ecp admin: ${(error as Error).message}`);
    return AdminExit.badArguments;
  }
  const request = REQUESTS[subcommand](args);
  const url = new URL(request.path, base);
  let status: number;
  let body: Record<string, unknown>;
  try {
    const answer = await send(url, request.method, token, request.body, args.timeout * 1000);
    status = answer.status;
    try {
      body = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      console.error(
        `ecp admin: ${url.origin} answered ${status} without JSON: is it the admin API (--admin-port)?`,
      );
      return AdminExit.unreachable;
    }
  } catch (error) {
    console.error(
      `ecp admin: cannot reach ${url.origin}: ${reachError(error as NodeJS.ErrnoException, args.timeout)}`,
    );
    return AdminExit.unreachable;
  }
  if (status !== 200) {
    const why = typeof body.error === 'string' ? body.error : JSON.stringify(body);
    if (args.json) process.stdout.write(`${JSON.stringify(body)}\n`);
    if (status === 401) {
      console.error(`ecp admin: unauthorized (401): ${why}; check --token-file or ECP_ADMIN_TOKEN`);
      return AdminExit.unauthorized;
    }
    console.error(`ecp admin: ${status === 429 ? 'refused for now (429)' : `refused (${status})`}: ${why}`);
    return status === 429 ? AdminExit.unauthorized : AdminExit.refused;
  }
  process.stdout.write(args.json ? `${JSON.stringify(body)}\n` : formatAnswer(subcommand, body));
  return AdminExit.ok;
}

function adminUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AdminTokenError(
      `--url must be a URL such as http://127.0.0.1:9200, got ${JSON.stringify(text)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AdminTokenError(`--url must be http:// or https://, got ${url.protocol}//`);
  }
  return url;
}

/** One request with node:http (fetch refuses some ports an operator may choose, such as 6000). */
function send(
  url: URL,
  method: string,
  token: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () =>
      outgoing.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

function reachError(error: NodeJS.ErrnoException, timeoutSeconds: number): string {
  if (error.code === 'ETIMEDOUT') return `no answer within ${timeoutSeconds} s`;
  if (error.code === 'ECONNREFUSED') return 'connection refused (is the server running with --admin-port?)';
  return error.code ?? error.message;
}

/** The answer for people. */
export function formatAnswer(subcommand: Subcommand, body: Record<string, unknown>): string {
  switch (subcommand) {
    case 'status':
      return formatStatus(body);
    case 'users':
      return formatUsers(body.users as AdminUser[]);
    case 'announce':
      return `announced to ${body.members} member${body.members === 1 ? '' : 's'}: ${body.announced}\n`;
    case 'kick':
      return `kicked ${body.kicked}${body.reason === null ? '' : ` (reason: ${body.reason})`}\n`;
    case 'rotate-key':
      return `new room key sent to ${body.members} member${body.members === 1 ? '' : 's'}\n`;
  }
}

function formatStatus(body: Record<string, unknown>): string {
  const counts = body.counts as Record<string, number>;
  const limits = body.limits as Record<string, number>;
  const flow = body.flow as Record<string, number | boolean>;
  const rows: [string, string][] = [
    ['uptime', duration(Number(body.uptimeSeconds) * 1000)],
    ['listeners', (body.listeners as string[]).join(', ')],
    ['metrics port', body.metricsPort === null ? 'off' : String(body.metricsPort)],
    ['users', String(counts.users)],
    ['connections', `${counts.connections} open, ${counts.connectionsAccepted} accepted since start`],
    ['messages relayed', String(counts.messagesRelayed)],
    ['deliveries', String(counts.deliveries)],
    ['output queued', bytes(counts.outputQueuedBytes ?? 0)],
    ['slow readers cut', String(counts.slowReaderDisconnects)],
    ['key rotations', String(counts.keyRotations)],
    ...Object.entries(limits).map(([name, value]): [string, string] => [name, String(value)]),
    ...Object.entries(flow).map(([name, value]): [string, string] => [name, String(value)]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return `${rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n')}\n`;
}

function formatUsers(users: AdminUser[]): string {
  if (users.length === 0) return 'no users in the room\n';
  return table(
    ['NAME', 'TRANSPORT', 'PEER', 'CONNECTED', 'PENDING OUTPUT'],
    users.map((user) => [
      user.name,
      user.transport,
      user.peer,
      duration(user.connectedMs),
      bytes(user.pendingOutputBytes),
    ]),
  );
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return `${all
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function duration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}
