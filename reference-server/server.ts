/**
 * The listening server: accepts connections on every listener (TCP, TLS, WebSocket: one room for
 * all), enforces the connection limit, owns the room and the sessions, and closes gracefully (a
 * notice to everyone, flush, close; then force what is left).
 */
import { authErrors, DEFAULT_PORT, type Limits } from '../protocol/index.ts';
import {
  type Connection,
  type Endpoint,
  formatEndpoint,
  type Listener,
  listen,
  parseEndpoint,
  type RejectedConnection,
  usesTls,
} from '../transport/index.ts';
import { serverAdminActions } from './admin/actions.ts';
import { AdminToken } from './admin/auth.ts';
import type { ThrottleSettings } from './admin/failure-throttle.ts';
import type { AdminServer } from './admin/http-server.ts';
import {
  type ClusterOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from './cluster/options.ts';
import { FlowControl, MAX_INPUT_BYTES_PER_TURN, watermarksFor } from './flow-control.ts';
import { encodeLine } from './line-encoder.ts';
import { createLogger, type Logger, type LogLevel } from './logger.ts';
import type { MetricsServer } from './metrics.ts';
import {
  checkHost,
  checkPort,
  DEFAULT_HOST,
  type FloodOptions,
  generatePassword,
  OptionsError,
  type ResolvedFloodOptions,
  resolveFloodOptions,
  resolveLimits,
} from './options.ts';
import { FlushQueue } from './outbox.ts';
import { PasswordCheck } from './password.ts';
import { Room } from './room.ts';
import type { RoomService } from './room-service.ts';
import { Session, type SessionContext } from './session.ts';
import { createStats, type ServerStats, snapshotStats } from './stats.ts';
import { WebClient } from './web-client.ts';

export interface ServerOptions extends FloodOptions {
  /**
   * Where to listen, one URL each: `tcp://host:port`, `tls://host:port`, `ws://host:port/path`,
   * `wss://host:port/path` (port 0 picks a free one). One room for all of them. Default: one TCP
   * listener on `host` and `port`.
   */
  listen?: string[];
  /** Interface of the default TCP listener (when `listen` is not given). Default 127.0.0.1. */
  host?: string;
  /** Port of the default TCP listener; 0 picks a free one (read it back from `server.port`). Default 8888. */
  port?: number;
  /** Certificate chain and private key (PEM) for tls:// and wss:// listeners. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** WebSocket keep-alive: ping every this many ms and close connections that did not answer. Default 30 s. */
  wsPingIntervalMs?: number;
  /** WebSocket permessage-deflate. Default off. */
  wsPerMessageDeflate?: boolean;
  /** The server password. Default: a random one (read it back from `server.password`). */
  password?: string;
  /** Overrides of the spec's limits (DEFAULT_LIMITS). */
  limits?: Partial<Limits>;
  /** Level of the JSON logs on stderr. Default 'info'; 'silent' for none. Ignored when `logger` is given. */
  logLevel?: LogLevel;
  /** A pino logger to use instead of the default stderr one. */
  logger?: Logger;
  /** Serve /metrics and /healthz over HTTP on this port (0: a free one). Default: not served. */
  metricsPort?: number;
  /** Interface for the metrics port. Default: `host`. */
  metricsHost?: string;
  /** How long `close()` lets clients read the shutdown notice before cutting them off. Default 1500 ms. */
  shutdownGraceMs?: number;
  /**
   * When a member leaves, give the remaining members a new room key (a fresh `key_exchange`), so
   * the one who left cannot read what follows. Default off (v1 keeps one key, ECP-KX-02).
   */
  rotateKeyOnLeave?: boolean;
  /**
   * The admin API (HTTP, JSON; docs/admin.md): status, users, announce, kick, rotate the key.
   * Off unless given. `host` defaults to 127.0.0.1 (not `host`); `token` is the bearer token (at
   * least 16 characters); `throttle` tunes the slowdown after failed attempts (tests).
   */
  admin?: { port: number; host?: string; token: string; throttle?: Partial<ThrottleSettings> };
  /**
   * Serve the browser client (web-client/) on every WebSocket listener's HTTP port: `/` is its page,
   * the ECP endpoint stays at its path. Default on.
   */
  webClient?: boolean;
  /**
   * Serve one room together with every other node on this Redis (`url`) and room name: membership
   * and messages go through Redis (docs/protocol.md, Clustering). Default: a room of this process.
   */
  cluster?: ClusterOptions;
}

export interface EcpServer {
  /** The first listener's host. */
  readonly host: string;
  /** The first listener's port, as bound (the chosen one when asked for 0). */
  readonly port: number;
  /** Every listener's URL as bound, e.g. `tcp://127.0.0.1:8888`, `ws://127.0.0.1:8080/ecp`. */
  readonly endpoints: string[];
  readonly password: string;
  /** True when no password was given and `password` was generated. */
  readonly passwordGenerated: boolean;
  readonly limits: Readonly<Limits>;
  /** Flood control and output budget as resolved (rate limit and per-address limit undefined when off). */
  readonly flood: Readonly<ResolvedFloodOptions>;
  /** The metrics port actually bound, when metrics are served. */
  readonly metricsPort: number | undefined;
  /** The admin API's port as bound, when it is on. */
  readonly adminPort: number | undefined;
  /** Where the browser client is served: `http://host:port/` of each WebSocket listener (https for wss). */
  readonly webClientUrls: string[];
  readonly logger: Logger;
  /** True once `close()` has been called. */
  readonly closing: boolean;
  /** A copy of the counters. */
  stats(): ServerStats;
  /** Member names in join order. */
  usernames(): string[];
  /** Graceful: shuttingDown notice to every client, flush, close. Idempotent; resolves when all is closed. */
  close(): Promise<void>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 1500;
/** A refused or closing connection gets this long to read its last line. */
const CLOSE_GRACE_MS = 1000;
const SERVER_FULL_LINE = encodeLine({ type: 'auth_error', message: authErrors.serverFull });
const ADDRESS_LIMIT_LINE = encodeLine({ type: 'auth_error', message: authErrors.tooManyFromAddress });

/** Starts a server and resolves once it listens. Rejects on invalid options or a listen error (EADDRINUSE). */
export async function startServer(options: ServerOptions = {}): Promise<EcpServer> {
  const server = new ReferenceServer(options);
  await server.listen(listenEndpoints(options));
  return server;
}

/** The listeners asked for: `listen` URLs, or the default TCP listener on `host` and `port`. */
function listenEndpoints(options: ServerOptions): Endpoint[] {
  if (options.listen !== undefined && options.listen.length > 0) {
    if (options.host !== undefined || options.port !== undefined) {
      throw new OptionsError('give listen URLs or host and port, not both');
    }
    const endpoints = options.listen.map((url) => {
      try {
        return parseEndpoint(url);
      } catch (error) {
        throw new OptionsError(`listen ${(error as Error).message}`);
      }
    });
    if (endpoints.some((endpoint) => usesTls(endpoint.transport)) && options.tls === undefined) {
      throw new OptionsError('tls:// and wss:// listeners need a TLS certificate and key');
    }
    return endpoints;
  }
  const host = checkHost(options.host ?? DEFAULT_HOST);
  const port = options.port === undefined ? DEFAULT_PORT : checkPort(options.port);
  return [{ transport: 'tcp', host, port, path: '' }];
}

class ReferenceServer implements EcpServer {
  readonly password: string;
  readonly passwordGenerated: boolean;
  readonly limits: Readonly<Limits>;
  readonly flood: Readonly<ResolvedFloodOptions>;
  readonly logger: Logger;
  #listeners: Listener[] = [];
  readonly #options: ServerOptions;
  #metrics: MetricsServer | undefined;
  #admin: AdminServer | undefined;
  readonly #adminToken: AdminToken | undefined;
  readonly #adminHost: string;
  readonly #metricsHost: string;
  readonly #metricsPort: number | undefined;
  readonly #shutdownGraceMs: number;
  readonly #stats = createStats();
  #room: RoomService;
  readonly #cluster: ResolvedClusterOptions | undefined;
  readonly #context: SessionContext;
  readonly #sessions = new Set<Session>();
  /** Connections refused for being over the limit, still saying so. */
  readonly #refused = new Set<Connection>();
  /** Open sessions per IP address, when connections per address are limited. */
  readonly #perAddress = new Map<string, number>();
  #nextSessionId = 0;
  #closing: Promise<void> | undefined;
  #allSessionsClosed: (() => void) | undefined;
  /** When a refusal of each kind was last logged, and how many were not logged since. */
  readonly #refusalLog = new Map<string, { since: number; suppressed: number }>();

  constructor(options: ServerOptions) {
    this.#options = options;
    this.limits = resolveLimits(options.limits);
    if (options.password !== undefined && options.password === '')
      throw new OptionsError('password is empty');
    this.passwordGenerated = options.password === undefined;
    this.password = options.password ?? generatePassword();
    this.#metricsPort =
      options.metricsPort === undefined ? undefined : checkPort(options.metricsPort, 'metricsPort');
    this.#metricsHost = checkHost(options.metricsHost ?? options.host ?? DEFAULT_HOST);
    this.#shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    if (!Number.isFinite(this.#shutdownGraceMs) || this.#shutdownGraceMs < 0) {
      throw new OptionsError(`shutdownGraceMs must be >= 0, got ${this.#shutdownGraceMs}`);
    }
    this.flood = Object.freeze(resolveFloodOptions(options));
    if (options.admin !== undefined) checkPort(options.admin.port, 'adminPort');
    this.#adminHost = checkHost(options.admin?.host ?? DEFAULT_HOST);
    this.#adminToken = options.admin === undefined ? undefined : new AdminToken(options.admin.token);
    this.#cluster = resolveCluster(options);
    const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
    // Several nodes write to one place: every line says which node wrote it.
    this.logger = this.#cluster === undefined ? logger : logger.child({ node: this.#cluster.nodeId });
    if (this.#cluster !== undefined && options.rotateKeyOnLeave) {
      throw new OptionsError(
        'rotateKeyOnLeave is not available with a cluster (one key is shared by every node)',
      );
    }
    // The admin API acts on this process's room (announce, rotate the key): in a cluster those go
    // through the room's log on every node, which the admin API does not do.
    if (this.#cluster !== undefined && options.admin !== undefined) {
      throw new OptionsError(
        'the admin API is not available with a cluster: run it on a server without --cluster',
      );
    }
    this.#room = new Room({
      stats: this.#stats,
      rotateKeyOnLeave: options.rotateKeyOnLeave ?? false,
      // The admin API's rotate-key reaches every member: it needs their public keys.
      keepPublicKeys: options.admin !== undefined,
    });
    const flow = new FlowControl(
      {
        ...watermarksFor(this.limits.maxPendingOutputBytes),
        slowReaderTimeoutMs: this.limits.slowReaderTimeoutMs,
        maxTotalOutputBytes: this.flood.maxTotalOutputBytes,
        maxInputBytesPerTurn: MAX_INPUT_BYTES_PER_TURN,
      },
      this.#stats,
    );
    this.#context = {
      room: this.#room,
      limits: this.limits,
      password: new PasswordCheck(this.password),
      flushQueue: new FlushQueue(),
      flow,
      rateLimit: this.flood.rateLimit,
      stats: this.#stats,
      logger: this.logger,
      closeGraceMs: CLOSE_GRACE_MS,
    };
  }

  get host(): string {
    return this.#listeners[0]?.host ?? '';
  }

  get port(): number {
    return this.#listeners[0]?.port ?? 0;
  }

  get endpoints(): string[] {
    return this.#listeners.map((listener) => formatEndpoint(listener));
  }

  get metricsPort(): number | undefined {
    return this.#metrics?.port;
  }

  get adminPort(): number | undefined {
    return this.#admin?.port;
  }

  get webClientUrls(): string[] {
    if (this.#options.webClient === false) return [];
    return this.#listeners
      .filter((listener) => listener.transport === 'ws' || listener.transport === 'wss')
      .map((listener) => {
        const host = listener.host.includes(':') ? `[${listener.host}]` : listener.host;
        return `${listener.transport === 'wss' ? 'https' : 'http'}://${host}:${listener.port}/`;
      });
  }

  get closing(): boolean {
    return this.#closing !== undefined;
  }

  stats(): ServerStats {
    return snapshotStats(this.#stats);
  }

  usernames(): string[] {
    return this.#room.usernames;
  }

  async listen(endpoints: Endpoint[]): Promise<void> {
    const options = {
      maxMessageBytes: this.limits.maxLineBytes,
      handshakeTimeoutMs: this.limits.handshakeTimeoutMs,
      onRejected: (rejected: RejectedConnection) => this.#onRejected(rejected),
      ...(this.#options.tls === undefined ? {} : { tls: this.#options.tls }),
      ...(this.#options.wsPingIntervalMs === undefined
        ? {}
        : { pingIntervalMs: this.#options.wsPingIntervalMs }),
      perMessageDeflate: this.#options.wsPerMessageDeflate ?? false,
    };
    const servesPages = (endpoint: Endpoint) => endpoint.transport === 'ws' || endpoint.transport === 'wss';
    const webClient =
      this.#options.webClient !== false && endpoints.some(servesPages) ? await WebClient.load() : undefined;
    try {
      if (this.#cluster !== undefined) {
        // Loaded only here, so a server without a cluster never loads ioredis.
        const { openClusterRoom } = await import('./cluster/index.ts');
        this.#room = await openClusterRoom({ ...this.#cluster, stats: this.#stats, logger: this.logger });
        this.#context.room = this.#room;
      }
      for (const endpoint of endpoints) {
        const listenOptions =
          webClient !== undefined && servesPages(endpoint)
            ? { ...options, onHttpRequest: webClient.handlerFor(endpoint.path || '/') }
            : options;
        this.#listeners.push(
          await listen(endpoint, listenOptions, (connection) => this.#onConnection(connection)),
        );
      }
      if (this.#metricsPort !== undefined) {
        // prom-client is loaded only by a server that serves metrics.
        const { createMetricsRegistry, startMetricsServer } = await import('./metrics.ts');
        const registry = createMetricsRegistry(this.#stats);
        this.#room.registerMetrics?.(registry);
        this.#metrics = await startMetricsServer({
          host: this.#metricsHost,
          port: this.#metricsPort,
          registry,
          isHealthy: () => this.#closing === undefined,
        });
      }
      if (this.#adminToken !== undefined) this.#admin = await this.#startAdmin(this.#adminToken);
    } catch (error) {
      await this.#metrics?.close();
      await Promise.all(this.#listeners.map((listener) => listener.close()));
      this.#listeners = [];
      await this.#room.shutdown?.();
      throw error;
    }
    const first = this.#listeners[0]!;
    this.logger.info(
      {
        host: first.host,
        port: first.port,
        endpoints: this.endpoints,
        metricsPort: this.metricsPort,
        adminPort: this.adminPort,
        limits: this.limits,
        flow: {
          highWaterBytes: this.#context.flow.settings.highWaterBytes,
          lowWaterBytes: this.#context.flow.settings.lowWaterBytes,
          maxTotalOutputBytes: this.flood.maxTotalOutputBytes,
          maxInputBytesPerTurn: this.#context.flow.settings.maxInputBytesPerTurn,
          maxMessagesPerSecond: this.flood.rateLimit?.perSecond ?? 0,
          messageBurst: this.flood.rateLimit?.burst ?? 0,
          maxConnectionsPerAddress: this.flood.maxConnectionsPerAddress ?? 0,
          rotateKeyOnLeave: this.#options.rotateKeyOnLeave ?? false,
        },
      },
      'listening',
    );
  }

  async #startAdmin(token: AdminToken): Promise<AdminServer> {
    // node:http is loaded only by a server with an admin port (a plain server does not keep it).
    const { startAdminServer } = await import('./admin/http-server.ts');
    const admin = this.#options.admin!;
    const startedAt = Date.now();
    const room = this.#room;
    // The constructor refuses the admin API with a cluster, so the room is this process's own.
    if (!(room instanceof Room)) throw new OptionsError('the admin API is not available with a cluster');
    return startAdminServer({
      host: this.#adminHost,
      port: admin.port,
      token,
      stats: this.#stats,
      logger: this.logger,
      ...(admin.throttle === undefined ? {} : { throttle: admin.throttle }),
      actions: serverAdminActions({
        room,
        sessions: this.#sessions,
        stats: this.#stats,
        startedAt,
        settings: () => ({
          listeners: this.endpoints,
          metricsPort: this.metricsPort ?? null,
          limits: this.limits,
          flow: {
            maxTotalOutputBytes: this.flood.maxTotalOutputBytes,
            maxMessagesPerSecond: this.flood.rateLimit?.perSecond ?? 0,
            messageBurst: this.flood.rateLimit?.burst ?? 0,
            maxConnectionsPerAddress: this.flood.maxConnectionsPerAddress ?? 0,
            rotateKeyOnLeave: this.#options.rotateKeyOnLeave ?? false,
          },
        }),
      }),
    });
  }

  /** A connection refused below ECP (TLS failure, wrong path, another transport's bytes): one log line. */
  #onRejected(rejected: RejectedConnection): void {
    this.#stats.transportRejections++;
    this.logger.info(
      {
        remote: rejected.peer,
        transport: rejected.transport,
        reason: rejected.reason,
        detail: rejected.detail,
      },
      'connection rejected',
    );
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  #onConnection(connection: Connection): void {
    this.#stats.connectionsAccepted++;
    if (this.#closing !== undefined) {
      connection.destroy();
      return;
    }
    if (this.#sessions.size >= this.limits.maxConnections) {
      this.#refuse(connection, 'server_full', SERVER_FULL_LINE, {
        maxConnections: this.limits.maxConnections,
      });
      return;
    }
    const perAddress = this.flood.maxConnectionsPerAddress;
    if (perAddress !== undefined) {
      const open = this.#perAddress.get(connection.remoteAddress) ?? 0;
      if (open >= perAddress) {
        this.#refuse(connection, 'address_limit', ADDRESS_LIMIT_LINE, {
          maxConnectionsPerAddress: perAddress,
        });
        return;
      }
      this.#perAddress.set(connection.remoteAddress, open + 1);
    }
    const session = new Session(connection, ++this.#nextSessionId, this.#context, this.#onSessionClosed);
    this.#sessions.add(session);
    this.#stats.connectionsOpen = this.#sessions.size;
    session.start();
  }

  readonly #onSessionClosed = (session: Session): void => {
    this.#sessions.delete(session);
    if (this.flood.maxConnectionsPerAddress !== undefined) {
      const open = (this.#perAddress.get(session.remoteAddress) ?? 1) - 1;
      if (open > 0) this.#perAddress.set(session.remoteAddress, open);
      else this.#perAddress.delete(session.remoteAddress);
    }
    this.#stats.connectionsOpen = this.#sessions.size;
    if (this.#sessions.size === 0) this.#allSessionsClosed?.();
  };

  /** Refuses a connection before any session: an auth_error, then close (over a connection limit). */
  #refuse(
    connection: Connection,
    reason: 'server_full' | 'address_limit',
    line: Buffer,
    limit: Record<string, number>,
  ): void {
    this.#stats.handshakeFailures[reason]++;
    this.#logRefusal(connection, reason, limit);
    this.#refused.add(connection);
    connection.on('close', () => this.#refused.delete(connection));
    connection.send(line);
    connection.end('policy');
    setTimeout(() => connection.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** At most one line per second per reason, with how many were refused silently in between. */
  #logRefusal(connection: Connection, reason: string, limit: Record<string, number>): void {
    const now = Date.now();
    const seen = this.#refusalLog.get(reason) ?? { since: 0, suppressed: 0 };
    this.#refusalLog.set(reason, seen);
    if (now - seen.since < 1000) {
      seen.suppressed++;
      return;
    }
    this.logger.warn(
      {
        remote: connection.peer,
        transport: connection.transport,
        reason,
        ...limit,
        alsoRefused: seen.suppressed,
      },
      'connection refused',
    );
    seen.since = now;
    seen.suppressed = 0;
  }

  async #shutdown(): Promise<void> {
    this.logger.info({ connections: this.#sessions.size, users: this.#room.size }, 'shutting down');
    const listenersClosed = Promise.all(this.#listeners.map((listener) => listener.close()));
    // No admin action on a room that is closing: the admin API goes first.
    const adminClosed = this.#admin?.close();
    this.#room.close();
    for (const connection of this.#refused) connection.destroy();
    const allClosed = new Promise<void>((resolve) => {
      this.#allSessionsClosed = resolve;
      if (this.#sessions.size === 0) resolve();
    });
    for (const session of [...this.#sessions]) session.shutdown();
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      graceTimer = setTimeout(() => resolve('grace over'), this.#shutdownGraceMs);
    });
    if ((await Promise.race([allClosed, graceOver])) === 'grace over') {
      this.logger.warn({ connections: this.#sessions.size }, 'shutdown grace over; closing the rest');
      for (const session of [...this.#sessions]) session.destroy();
    }
    clearTimeout(graceTimer);
    await listenersClosed;
    await this.#room.shutdown?.();
    await this.#metrics?.close();
    await adminClosed;
    this.logger.info('closed');
  }
}

function resolveCluster(options: ServerOptions): ResolvedClusterOptions | undefined {
  if (options.cluster === undefined) return undefined;
  try {
    return resolveClusterOptions(options.cluster);
  } catch (error) {
    throw new OptionsError((error as Error).message);
  }
}
