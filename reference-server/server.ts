/**
 * The listening server: accepts connections, enforces the connection limit, owns the room and the
 * sessions, and closes gracefully (a notice to everyone, flush, close; then force what is left).
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { authErrors, type Limits } from '../protocol/index.ts';
import { createLogger, type Logger, type LogLevel } from './logger.ts';
import { createMetricsRegistry, type MetricsServer, startMetricsServer } from './metrics.ts';
import {
  checkHost,
  checkPort,
  DEFAULT_HOST,
  DEFAULT_PORT,
  generatePassword,
  OptionsError,
  resolveLimits,
} from './options.ts';
import { FlushQueue } from './outbox.ts';
import { PasswordCheck } from './password.ts';
import { Room } from './room.ts';
import { Session, type SessionContext } from './session.ts';
import { createStats, type ServerStats, snapshotStats } from './stats.ts';
import { encodeLine } from './wire.ts';

export interface ServerOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `server.port`). Default 8888. */
  port?: number;
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
}

export interface EcpServer {
  readonly host: string;
  /** The port actually bound (the chosen one when asked for 0). */
  readonly port: number;
  readonly password: string;
  /** True when no password was given and `password` was generated. */
  readonly passwordGenerated: boolean;
  readonly limits: Readonly<Limits>;
  /** The metrics port actually bound, when metrics are served. */
  readonly metricsPort: number | undefined;
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

/** Starts a server and resolves once it listens. Rejects on invalid options or a listen error (EADDRINUSE). */
export async function startServer(options: ServerOptions = {}): Promise<EcpServer> {
  const server = new ReferenceServer(options);
  await server.listen(options.port === undefined ? DEFAULT_PORT : checkPort(options.port));
  return server;
}

class ReferenceServer implements EcpServer {
  readonly host: string;
  readonly password: string;
  readonly passwordGenerated: boolean;
  readonly limits: Readonly<Limits>;
  readonly logger: Logger;
  #port = 0;
  #metrics: MetricsServer | undefined;
  readonly #metricsHost: string;
  readonly #metricsPort: number | undefined;
  readonly #shutdownGraceMs: number;
  readonly #stats = createStats();
  readonly #room: Room;
  readonly #context: SessionContext;
  readonly #net: Server;
  readonly #sessions = new Set<Session>();
  /** Connections refused for being over the limit, still saying so. */
  readonly #refused = new Set<Socket>();
  #nextSessionId = 0;
  #closing: Promise<void> | undefined;
  #allSessionsClosed: (() => void) | undefined;
  #fullSince = 0;
  #fullSuppressed = 0;

  constructor(options: ServerOptions) {
    this.host = checkHost(options.host ?? DEFAULT_HOST);
    this.limits = resolveLimits(options.limits);
    if (options.password !== undefined && options.password === '')
      throw new OptionsError('password is empty');
    this.passwordGenerated = options.password === undefined;
    this.password = options.password ?? generatePassword();
    this.#metricsPort =
      options.metricsPort === undefined ? undefined : checkPort(options.metricsPort, 'metricsPort');
    this.#metricsHost = checkHost(options.metricsHost ?? this.host);
    this.#shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    if (!Number.isFinite(this.#shutdownGraceMs) || this.#shutdownGraceMs < 0) {
      throw new OptionsError(`shutdownGraceMs must be >= 0, got ${this.#shutdownGraceMs}`);
    }
    this.logger = options.logger ?? createLogger(options.logLevel ?? 'info');
    this.#room = new Room({ stats: this.#stats });
    this.#context = {
      room: this.#room,
      limits: this.limits,
      password: new PasswordCheck(this.password),
      flushQueue: new FlushQueue(),
      stats: this.#stats,
      logger: this.logger,
      closeGraceMs: CLOSE_GRACE_MS,
    };
    // allowHalfOpen: a client's FIN must not auto-end our side before its queued output is flushed.
    this.#net = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#onConnection(socket));
  }

  get port(): number {
    return this.#port;
  }

  get metricsPort(): number | undefined {
    return this.#metrics?.port;
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

  async listen(port: number): Promise<void> {
    const net = this.#net;
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen({ host: this.host, port }, () => {
        net.off('error', reject);
        resolve();
      });
    });
    // After listening, an error (EMFILE on accept, ...) must not crash the process.
    net.on('error', (error: NodeJS.ErrnoException) =>
      this.logger.error({ err: error.code ?? error.message }, 'server error'),
    );
    this.#port = (net.address() as AddressInfo).port;
    if (this.#metricsPort !== undefined) {
      try {
        this.#metrics = await startMetricsServer({
          host: this.#metricsHost,
          port: this.#metricsPort,
          registry: createMetricsRegistry(this.#stats),
          isHealthy: () => this.#closing === undefined,
        });
      } catch (error) {
        await new Promise<void>((resolve) => net.close(() => resolve()));
        throw error;
      }
    }
    this.logger.info(
      { host: this.host, port: this.#port, metricsPort: this.metricsPort, limits: this.limits },
      'listening',
    );
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  #onConnection(socket: Socket): void {
    this.#stats.connectionsAccepted++;
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    if (this.#sessions.size >= this.limits.maxConnections) {
      this.#refuseServerFull(socket);
      return;
    }
    const session = new Session(socket, ++this.#nextSessionId, this.#context, this.#onSessionClosed);
    this.#sessions.add(session);
    this.#stats.connectionsOpen = this.#sessions.size;
    session.start();
  }

  readonly #onSessionClosed = (session: Session): void => {
    this.#sessions.delete(session);
    this.#stats.connectionsOpen = this.#sessions.size;
    if (this.#sessions.size === 0) this.#allSessionsClosed?.();
  };

  #refuseServerFull(socket: Socket): void {
    this.#stats.handshakeFailures.server_full++;
    this.#logServerFull(socket);
    this.#refused.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.#refused.delete(socket));
    socket.end(SERVER_FULL_LINE);
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** At most one line per second while full, with how many were refused silently in between. */
  #logServerFull(socket: Socket): void {
    const now = Date.now();
    if (now - this.#fullSince < 1000) {
      this.#fullSuppressed++;
      return;
    }
    this.logger.warn(
      {
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
        reason: 'server_full',
        maxConnections: this.limits.maxConnections,
        alsoRefused: this.#fullSuppressed,
      },
      'connection refused',
    );
    this.#fullSince = now;
    this.#fullSuppressed = 0;
  }

  async #shutdown(): Promise<void> {
    this.logger.info({ connections: this.#sessions.size, users: this.#room.size }, 'shutting down');
    const listenerClosed = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    this.#room.close();
    for (const socket of this.#refused) socket.destroy();
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
    await listenerClosed;
    await this.#metrics?.close();
    this.logger.info('closed');
  }
}
