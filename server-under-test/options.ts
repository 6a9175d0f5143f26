/**
 * The options that say which server to test, shared by `ecp conformance` and `ecp bench` so both
 * name a server the same way: the embedded reference server (default), `--target URL` (a running
 * server, or `URL,URL,...`: several endpoints of one room, e.g. the nodes of a cluster), or
 * `--spawn CMD` (one the kit starts on a free port, reached as `--target` with `{port}` in the URL,
 * or over `--transport`).
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import type { Limits } from '../protocol/index.ts';
import {
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  TRANSPORTS,
  type TransportName,
  usesTls,
} from '../transport/index.ts';
import type { TargetSpec, TargetTls } from './target.ts';

export interface TargetArgs {
  target: string | undefined;
  spawn: string | undefined;
  port: number | undefined;
  'start-timeout': number;
  password: string;
  transport: TransportName | undefined;
  ca: string | undefined;
  insecure: boolean;
}

export function addTargetOptions<T>(yargs: Argv<T>): Argv<T & TargetArgs> {
  return yargs.options({
    target: {
      type: 'string',
      describe:
        'The server: tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH, wss://HOST:PORT/PATH or HOST:PORT; several endpoints of one room separated by commas (clients are spread over them); with --spawn, one URL with {port}',
    },
    spawn: {
      type: 'string',
      describe: "Command that starts the server; '{port}' is replaced by a free port",
    },
    port: {
      type: 'number',
      describe: 'With --spawn, for a command without {port}: the port it listens on',
    },
    'start-timeout': {
      type: 'number',
      default: 10,
      describe: 'With --spawn: seconds the server may take to accept connections',
    },
    password: { type: 'string', default: 'secret123', describe: 'Server password' },
    transport: {
      choices: TRANSPORTS,
      describe: 'The embedded or spawned server speaks this transport [default: tcp]',
    },
    ca: { type: 'string', describe: 'TLS: trust this CA certificate (PEM file) to verify the server' },
    insecure: {
      type: 'boolean',
      default: false,
      describe: 'TLS: do not verify the server certificate',
    },
  }) as unknown as Argv<T & TargetArgs>;
}

/** The server to test as the options name it; throws a RangeError (or TransportError) people can read. */
export function targetSpecFrom(args: TargetArgs, embedded: { limits?: Partial<Limits> } = {}): TargetSpec {
  if (args.spawn !== undefined && args.target?.includes(',')) {
    throw new RangeError(
      '--spawn starts one server on one port: several --target endpoints go with servers already running',
    );
  }
  const template = args.target?.includes('{port}') ?? false;
  if (args.target !== undefined && args.spawn !== undefined && !template) {
    throw new RangeError('with --spawn, --target is the URL of the started server and must contain {port}');
  }
  if (template && args.spawn === undefined) throw new RangeError('a --target with {port} goes with --spawn');
  if (args.transport !== undefined && args.target !== undefined) {
    throw new RangeError('--transport goes without --target (the URL names the transport)');
  }
  if (args.port !== undefined && args.spawn === undefined) throw new RangeError('--port goes with --spawn');
  const tls = tlsFrom(args);
  if (args.spawn !== undefined) {
    const endpoint = spawnedEndpoint(args);
    checkTls(endpoint.transport, tls);
    return {
      kind: 'spawned',
      command: args.spawn,
      password: args.password,
      endpoint,
      startTimeoutMs: args['start-timeout'] * 1000,
      ...(args.port === undefined ? {} : { port: args.port }),
      ...(tls === undefined ? {} : { tls }),
    };
  }
  if (args.target !== undefined) {
    const [endpoint, ...otherEndpoints] = parseTargetList(args.target);
    if (tls !== undefined && ![endpoint, ...otherEndpoints].some((item) => usesTls(item.transport))) {
      throw new RangeError('--ca and --insecure are for tls:// and wss:// servers');
    }
    return {
      kind: 'running',
      endpoint,
      ...(otherEndpoints.length === 0 ? {} : { otherEndpoints }),
      password: args.password,
      ...(tls === undefined ? {} : { tls }),
    };
  }
  if (tls !== undefined) throw new RangeError('--ca and --insecure are for a --target or --spawn over TLS');
  return {
    kind: 'embedded',
    password: args.password,
    ...(embedded.limits === undefined ? {} : { limits: embedded.limits }),
    ...(args.transport === undefined ? {} : { transport: args.transport }),
  };
}

/**
 * The endpoints of a `--target`: one URL, or several separated by commas, all serving one room
 * (listeners of one server, or nodes of a cluster); any transports, mixed. Throws a RangeError for
 * an empty item or a repeated endpoint, a TransportError (ECP_BAD_ENDPOINT) for a bad URL, each
 * naming the item.
 */
export function parseTargetList(text: string): [Endpoint, ...Endpoint[]] {
  const items = text.split(',').map((item) => item.trim());
  const endpoints: Endpoint[] = [];
  const seen = new Set<string>();
  for (const [index, item] of items.entries()) {
    if (item === '') {
      throw new RangeError(
        `--target '${text}': item ${index + 1} is empty (endpoints are separated by single commas)`,
      );
    }
    const endpoint = parseEndpoint(item);
    const url = formatEndpoint(endpoint);
    if (seen.has(url)) throw new RangeError(`--target '${text}': ${url} is named twice`);
    seen.add(url);
    endpoints.push(endpoint);
  }
  return endpoints as [Endpoint, ...Endpoint[]];
}

function spawnedEndpoint(args: TargetArgs): Endpoint {
  if (args.target !== undefined) return { ...parseEndpoint(args.target.replaceAll('{port}', '0')), port: 0 };
  const transport = args.transport ?? 'tcp';
  return {
    transport,
    host: '127.0.0.1',
    port: 0,
    path: transport === 'ws' || transport === 'wss' ? '/' : '',
  };
}

/** How the kit's clients trust a TLS server, from --ca and --insecure (undefined: the system's CAs). */
export function tlsFrom(args: Pick<TargetArgs, 'ca' | 'insecure'>): TargetTls | undefined {
  if (args.ca === undefined && !args.insecure) return undefined;
  const tls: TargetTls = {};
  if (args.ca !== undefined) {
    try {
      tls.ca = readFileSync(args.ca, 'utf8');
    } catch (error) {
      throw new RangeError(
        `cannot read --ca ${args.ca}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
  }
  if (args.insecure) tls.insecure = true;
  return tls;
}

function checkTls(transport: TransportName, tls: TargetTls | undefined): void {
  if (tls !== undefined && !usesTls(transport)) {
    throw new RangeError('--ca and --insecure are for tls:// and wss:// servers');
  }
}
