/**
 * `ecp server`: runs the reference server until SIGINT or SIGTERM.
 *
 * Humans read stdout: where it listens, the password if one was generated (shown once, here only),
 * where metrics are. Machines read stderr: one JSON log line per event (pino).
 * Exit codes: 0 after a graceful shutdown, 1 if the server cannot start, 2 for invalid options.
 */
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_LIMITS, DEFAULT_PORT } from '../protocol/index.ts';
import { TransportError } from '../transport/index.ts';
import { AdminToken, AdminTokenError, readAdminToken } from './admin/auth.ts';
import { DEFAULT_RETENTION, DEFAULT_ROOM, redactUrl } from './cluster/options.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import {
  DEFAULT_HOST,
  DEFAULT_MAX_TOTAL_OUTPUT_BYTES,
  OptionsError,
  resolveFloodOptions,
  resolveLimits,
  resolvePassword,
} from './options.ts';
import { startServer } from './server.ts';

interface ServerArgs {
  listen: string[] | undefined;
  host: string | undefined;
  port: number | undefined;
  'tls-cert': string | undefined;
  'tls-key': string | undefined;
  'ws-ping-interval': number;
  'ws-deflate': boolean;
  password: string | undefined;
  'password-file': string | undefined;
  'log-level': string;
  'metrics-port': number | undefined;
  'admin-port': number | undefined;
  'admin-host': string | undefined;
  'admin-token-file': string | undefined;
  'max-line-bytes': number;
  'handshake-timeout-ms': number;
  'max-pending-output-bytes': number;
  'slow-reader-timeout-ms': number;
  'max-total-output-bytes': number;
  'max-messages-per-second': number;
  'message-burst': number | undefined;
  'max-connections-per-address': number;
  'rotate-key-on-leave': boolean;
  'web-client': boolean;
  'max-connections': number;
  'max-username-length': number;
  cluster: string | undefined;
  room: string | undefined;
  'node-id': string | undefined;
  'cluster-retention': number | undefined;
}

const EXIT_INVALID_OPTIONS = 2;

/** Library option names → the flags a CLI user typed, for error messages. */
const FLAG_NAMES: Record<string, string> = {
  maxLineBytes: '--max-line-bytes',
  handshakeTimeoutMs: '--handshake-timeout-ms',
  maxPendingOutputBytes: '--max-pending-output-bytes',
  slowReaderTimeoutMs: '--slow-reader-timeout-ms',
  maxTotalOutputBytes: '--max-total-output-bytes',
  maxMessagesPerSecond: '--max-messages-per-second',
  messageBurst: '--message-burst',
  maxConnectionsPerAddress: '--max-connections-per-address',
  maxConnections: '--max-connections',
  maxUsernameLength: '--max-username-length',
  metricsPort: '--metrics-port',
  adminPort: '--admin-port',
  port: '--port',
  host: '--host',
  listen: '--listen',
  webClient: '--web-client',
};

function invalidOptions(error: OptionsError): never {
  const message = error.message.replace(/^(\w+)/, (name) => FLAG_NAMES[name] ?? name);
  console.error(`ecp server: ${message}`);
  process.exit(EXIT_INVALID_OPTIONS);
}
/** Past this, a shutdown that has not finished is cut short (the command-line contract promises an exit within 2 s). */
const SHUTDOWN_DEADLINE_MS = 1900;

function builder(yargs: Argv): Argv<ServerArgs> {
  return yargs
    .usage(
      '$0 server [options]\n\nRun the ECP v1 reference server. The password comes from --password, --password-file or\nthe ECP_PASSWORD environment variable; with none, a random one is generated and printed once.',
    )
    .options({
      listen: {
        type: 'string',
        array: true,
        describe:
          'Where to listen, repeatable: tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH, wss://HOST:PORT/PATH (port 0: a free one). One room for all',
      },
      host: {
        type: 'string',
        describe: `Interface of the plain TCP listener when --listen is not given [default: ${DEFAULT_HOST}]`,
      },
      port: {
        type: 'number',
        describe: `Port of the plain TCP listener when --listen is not given; 0 picks a free one [default: ${DEFAULT_PORT}]`,
      },
      'tls-cert': { type: 'string', describe: 'Certificate chain (PEM) for tls:// and wss:// listeners' },
      'tls-key': { type: 'string', describe: 'Private key (PEM) for tls:// and wss:// listeners' },
      'ws-ping-interval': {
        type: 'number',
        default: 30,
        describe: 'WebSocket keep-alive: ping every N seconds, close connections that miss a pong',
      },
      'ws-deflate': {
        type: 'boolean',
        default: false,
        describe: 'Offer WebSocket permessage-deflate (costs CPU and memory per connection)',
      },
      password: {
        type: 'string',
        describe: 'Server password (visible to other local users in ps; prefer the file)',
      },
      'password-file': {
        type: 'string',
        describe: 'Read the server password from this file (one trailing newline dropped)',
      },
      'log-level': {
        type: 'string',
        choices: LOG_LEVELS,
        default: 'info',
        describe: 'Level of the JSON logs on stderr',
      },
      'metrics-port': {
        type: 'number',
        describe: 'Serve Prometheus /metrics and /healthz on this port (0: a free one)',
      },
      'admin-port': {
        type: 'number',
        describe:
          'Serve the admin API (HTTP, JSON: status, users, announce, kick, rotate-key) on this port (0: a free one); needs a token',
      },
      'admin-host': {
        type: 'string',
        describe: 'Interface of the admin API [default: 127.0.0.1, whatever --host says]',
      },
      'admin-token-file': {
        type: 'string',
        describe:
          'Read the admin API bearer token from this file (at least 16 characters) [default: $ECP_ADMIN_TOKEN]',
      },
      'max-line-bytes': {
        type: 'number',
        default: DEFAULT_LIMITS.maxLineBytes,
        describe: 'Longest accepted line, bytes',
      },
      'handshake-timeout-ms': {
        type: 'number',
        default: DEFAULT_LIMITS.handshakeTimeoutMs,
        describe: 'Time a connection has to complete its handshake, ms',
      },
      'max-pending-output-bytes': {
        type: 'number',
        default: DEFAULT_LIMITS.maxPendingOutputBytes,
        describe: 'Unsent output per client before it is disconnected as a slow reader (the cap), bytes',
      },
      'slow-reader-timeout-ms': {
        type: 'number',
        default: DEFAULT_LIMITS.slowReaderTimeoutMs,
        describe:
          'A client whose unsent output does not drain at all for this long is disconnected as a slow reader, ms',
      },
      'max-total-output-bytes': {
        type: 'number',
        default: DEFAULT_MAX_TOTAL_OUTPUT_BYTES,
        describe:
          'Unsent output for all clients together above which no input is read until it drains, bytes',
      },
      'max-messages-per-second': {
        type: 'number',
        default: 0,
        describe: 'Flood control: messages one connection may send per second; faster ones wait (0: off)',
      },
      'message-burst': {
        type: 'number',
        describe:
          'Flood control: messages a connection may send at once before the rate applies [default: one second of the rate]',
      },
      'max-connections-per-address': {
        type: 'number',
        default: 0,
        describe: 'Open connections from one IP address; more get auth_error (0: off)',
      },
      'rotate-key-on-leave': {
        type: 'boolean',
        default: false,
        describe: 'When a member leaves, send the others a new room key (departs from ECP-KX-02)',
      },
      'web-client': {
        type: 'boolean',
        default: true,
        describe:
          "Serve the browser client on each WebSocket listener's HTTP port, at / (--no-web-client: off)",
      },
      'max-connections': {
        type: 'number',
        default: DEFAULT_LIMITS.maxConnections,
        describe: 'Open connections at once',
      },
      'max-username-length': {
        type: 'number',
        default: DEFAULT_LIMITS.maxUsernameLength,
        describe: 'Longest username, characters',
      },
      cluster: {
        type: 'string',
        describe:
          'Share one room with every node on this Redis: redis://[user:password@]host:port (rediss:// for TLS)',
      },
      room: {
        type: 'string',
        describe: `With --cluster: the room's name; nodes with the same Redis and room serve one room [default: ${DEFAULT_ROOM}]`,
      },
      'node-id': {
        type: 'string',
        describe:
          'With --cluster: this node, the same across restarts so a restart leaves no ghost users [default: host name and process id]',
      },
      'cluster-retention': {
        type: 'number',
        describe: `With --cluster: room log entries Redis keeps, how far a node may fall behind and still catch up [default: ${DEFAULT_RETENTION}]`,
      },
    })
    .example('$0 server --port 0', 'listen on a free port with a generated password')
    .example(
      '$0 server --listen tcp://127.0.0.1:8888 --listen ws://127.0.0.1:8080/ecp',
      'TCP and WebSocket users in one room',
    )
    .example(
      '$0 server --listen tls://0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem',
      'TLS only, on every interface',
    )
    .example(
      '$0 server --max-messages-per-second 20 --max-connections-per-address 8',
      'flood control for a public server',
    )
    .example(
      '$0 server --cluster redis://127.0.0.1:6379 --node-id a --port 8881',
      'a node of a room shared through Redis (start more with other ids and ports)',
    )
    .example(
      'ECP_PASSWORD=secret123 $0 server --metrics-port 9100',
      'password from the environment, with metrics',
    )
    .example(
      '$0 server --admin-port 9200 --admin-token-file admin.token',
      'with the admin API (see ecp admin)',
    )
    .fail((message, error) => {
      if (error && !message) throw error;
      console.error(`ecp server: ${message ?? error?.message}\nSee: ecp server --help`);
      process.exit(EXIT_INVALID_OPTIONS);
    }) as unknown as Argv<ServerArgs>;
}

async function handler(args: ServerArgs): Promise<void> {
  let settings: Parameters<typeof startServer>[0];
  let passwordGenerated: boolean;
  try {
    const limits = resolveLimits({
      maxLineBytes: args['max-line-bytes'],
      handshakeTimeoutMs: args['handshake-timeout-ms'],
      maxPendingOutputBytes: args['max-pending-output-bytes'],
      slowReaderTimeoutMs: args['slow-reader-timeout-ms'],
      maxConnections: args['max-connections'],
      maxUsernameLength: args['max-username-length'],
    });
    const flood = {
      maxTotalOutputBytes: args['max-total-output-bytes'],
      maxMessagesPerSecond: args['max-messages-per-second'],
      messageBurst: args['message-burst'],
      maxConnectionsPerAddress: args['max-connections-per-address'],
    };
    resolveFloodOptions(flood);
    const resolved = resolvePassword({
      password: args.password,
      passwordFile: args['password-file'],
      env: process.env.ECP_PASSWORD,
    });
    passwordGenerated = resolved.generated;
    if (args.listen !== undefined && (args.host !== undefined || args.port !== undefined)) {
      throw new OptionsError('--listen goes without --host and --port (put the address in the URL)');
    }
    if ((args['tls-cert'] === undefined) !== (args['tls-key'] === undefined)) {
      throw new OptionsError('--tls-cert and --tls-key go together');
    }
    if (args['admin-port'] === undefined) {
      if (args['admin-host'] !== undefined || args['admin-token-file'] !== undefined) {
        throw new OptionsError('--admin-host and --admin-token-file go with --admin-port');
      }
    }
    const admin =
      args['admin-port'] === undefined
        ? undefined
        : {
            port: args['admin-port'],
            host: args['admin-host'] ?? DEFAULT_HOST,
            token: adminToken(args['admin-token-file']),
          };
    if (
      args.cluster === undefined &&
      (args.room !== undefined || args['node-id'] !== undefined || args['cluster-retention'] !== undefined)
    ) {
      throw new OptionsError('--room, --node-id and --cluster-retention go with --cluster');
    }
    if (args.cluster !== undefined && args['admin-port'] !== undefined) {
      throw new OptionsError('--admin-port is not available with --cluster');
    }
    if (!(args['ws-ping-interval'] > 0)) {
      throw new OptionsError(
        `--ws-ping-interval must be a positive number of seconds, got ${args['ws-ping-interval']}`,
      );
    }
    settings = {
      ...(args.listen === undefined
        ? { host: args.host ?? DEFAULT_HOST, port: args.port ?? DEFAULT_PORT }
        : { listen: args.listen }),
      ...(args['tls-cert'] === undefined || args['tls-key'] === undefined
        ? {}
        : {
            tls: {
              cert: readPem(args['tls-cert'], '--tls-cert'),
              key: readPem(args['tls-key'], '--tls-key'),
            },
          }),
      wsPingIntervalMs: args['ws-ping-interval'] * 1000,
      wsPerMessageDeflate: args['ws-deflate'],
      password: resolved.password,
      limits,
      ...flood,
      rotateKeyOnLeave: args['rotate-key-on-leave'],
      webClient: args['web-client'],
      logLevel: args['log-level'] as LogLevel,
      metricsPort: args['metrics-port'],
      ...(admin === undefined ? {} : { admin }),
      ...(args.cluster === undefined
        ? {}
        : {
            cluster: {
              url: args.cluster,
              ...(args.room === undefined ? {} : { room: args.room }),
              ...(args['node-id'] === undefined ? {} : { nodeId: args['node-id'] }),
              ...(args['cluster-retention'] === undefined ? {} : { retention: args['cluster-retention'] }),
            },
          }),
    };
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    invalidOptions(error);
  }

  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(settings);
  } catch (error) {
    if (error instanceof OptionsError) invalidOptions(error);
    const inUse = (error as { cause?: { code?: unknown } }).cause?.code === 'EADDRINUSE';
    const advice = !inUse
      ? ''
      : args.listen
        ? '\nthe port is in use (another server?): choose another in --listen, or port 0 for any free port'
        : '\nthe port is in use (another server?): choose another with --port, or --port 0 for any free port';
    console.error(`ecp server: ${error instanceof TransportError ? error.message : String(error)}${advice}`);
    process.exit(1);
  }

  for (const endpoint of server.endpoints) console.log(`ECP server listening on ${endpoint}`);
  for (const url of server.webClientUrls) console.log(`Web client on ${url}`);
  if (args.cluster !== undefined) {
    console.log(`room ${args.room ?? DEFAULT_ROOM} shared through ${redactUrl(args.cluster)}`);
  }
  if (passwordGenerated) console.log(`password: ${server.password}`);
  if (server.metricsPort !== undefined) {
    console.log(`metrics on http://${formatAddress(server.host, server.metricsPort)}/metrics`);
  }
  if (server.adminPort !== undefined) {
    console.log(`admin API on http://${formatAddress(args['admin-host'] ?? DEFAULT_HOST, server.adminPort)}`);
  }

  const stop = (signal: NodeJS.Signals) => {
    server.logger.info({ signal }, 'signal received');
    setTimeout(() => {
      console.error('ecp server: shutdown did not finish in time');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    server.close().then(
      () => {
        console.log('ECP server stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`ecp server: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The admin token from --admin-token-file or $ECP_ADMIN_TOKEN, checked; an OptionsError without one. */
function adminToken(file: string | undefined): string {
  try {
    const token = readAdminToken({ file, env: process.env.ECP_ADMIN_TOKEN }, '--admin-token-file');
    new AdminToken(token);
    return token;
  } catch (error) {
    if (error instanceof AdminTokenError) throw new OptionsError(`--admin-port: ${error.message}`);
    throw error;
  }
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptionsError(
      `cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export const serverCommand: CommandModule<object, ServerArgs> = {
  command: 'server',
  describe: 'Run the ECP v1 reference server',
  builder,
  handler,
};
