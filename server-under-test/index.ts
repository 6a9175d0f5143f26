/**
 * The server under test, however it is reached: the embedded reference server (default), a server
 * already running at host:port, or a command the kit spawns on a free port. The conformance kit
 * and the bench both use this module, so a server is reached the same way by both.
 */
import type { Limits } from '../protocol/index.ts';
import { createLogger, startServer } from '../reference-server/index.ts';
import { findFreePort, type HostPort } from './address.ts';
import { OutputTail } from './output-tail.ts';
import { SpawnedServer } from './spawned-server.ts';

export { canConnect, findFreePort, type HostPort, parseHostPort, waitUntilAccepting } from './address.ts';
export { TargetStartError } from './spawned-server.ts';

/**
 * Starts an in-process server on a port (0: any free one) and returns how to reach and stop it.
 * What it logs goes to `output`, so reports can show it as they show a spawned server's output.
 */
export type EmbeddedStarter = (options: {
  host: string;
  port: number;
  password: string;
  limits: Partial<Limits>;
  output: OutputTail;
}) => Promise<{ port: number; close(): Promise<void> }>;

export type TargetSpec =
  | {
      kind: 'embedded';
      password?: string;
      limits?: Partial<Limits>;
      /** Another in-process server, e.g. a test fixture; the reference server by default. */
      start?: EmbeddedStarter;
      label?: string;
    }
  | { kind: 'running'; address: HostPort; password: string }
  | {
      kind: 'spawned';
      /** Shell command; `{port}` is replaced by a free port. Without `{port}`, `port` must be given. */
      command: string;
      password: string;
      host?: string;
      port?: number;
      startTimeoutMs?: number;
    };

export interface Target {
  readonly kind: TargetSpec['kind'];
  /** For people: what is being tested and where. */
  readonly description: string;
  readonly address: HostPort;
  readonly password: string;
  /** Embedded and spawned targets can be restarted (e.g. per feature); a running one cannot. */
  readonly canRestart: boolean;
  restart(): Promise<void>;
  /** What the server printed or logged (the last 256 KiB); empty for a running server. */
  serverOutput(): string;
  close(): Promise<void>;
}

const DEFAULT_PASSWORD = 'secret123';
const DEFAULT_START_TIMEOUT_MS = 10_000;

export async function openTarget(spec: TargetSpec): Promise<Target> {
  const target =
    spec.kind === 'running'
      ? new RunningTarget(spec.address, spec.password)
      : spec.kind === 'embedded'
        ? new EmbeddedTarget(spec)
        : new SpawnedTarget(spec);
  await target.restart();
  return target;
}

class RunningTarget implements Target {
  readonly kind = 'running';
  readonly canRestart = false;
  constructor(
    readonly address: HostPort,
    readonly password: string,
  ) {}
  get description(): string {
    return `server at ${this.address.host}:${this.address.port}`;
  }
  async restart(): Promise<void> {}
  serverOutput(): string {
    return '';
  }
  async close(): Promise<void> {}
}

const startReferenceServer: EmbeddedStarter = async ({ host, port, password, limits, output }) =>
  startServer({
    host,
    port,
    password,
    limits,
    logger: createLogger('info', { write: (line: string) => output.append(Buffer.from(line)) }),
  });

class EmbeddedTarget implements Target {
  readonly kind = 'embedded';
  readonly canRestart = true;
  readonly password: string;
  address: HostPort = { host: '127.0.0.1', port: 0 };
  #server: { port: number; close(): Promise<void> } | undefined;
  readonly #output = new OutputTail();
  readonly #start: EmbeddedStarter;
  readonly #limits: Partial<Limits>;
  readonly #label: string;

  constructor(spec: Extract<TargetSpec, { kind: 'embedded' }>) {
    this.password = spec.password ?? DEFAULT_PASSWORD;
    this.#start = spec.start ?? startReferenceServer;
    this.#limits = spec.limits ?? {};
    this.#label = spec.label ?? 'embedded reference server';
  }
  get description(): string {
    return `${this.#label} at ${this.address.host}:${this.address.port}`;
  }
  async restart(): Promise<void> {
    await this.close();
    this.#server = await this.#start({
      host: '127.0.0.1',
      port: 0,
      password: this.password,
      limits: this.#limits,
      output: this.#output,
    });
    this.address = { host: '127.0.0.1', port: this.#server.port };
  }
  serverOutput(): string {
    return this.#output.text();
  }
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }
}

class SpawnedTarget implements Target {
  readonly kind = 'spawned';
  readonly canRestart = true;
  readonly password: string;
  #server: SpawnedServer | undefined;
  /** Output of the last few earlier runs, for a report on a server restarted per scenario. */
  #earlierOutputs: string[] = [];
  readonly #spec: Extract<TargetSpec, { kind: 'spawned' }>;

  constructor(spec: Extract<TargetSpec, { kind: 'spawned' }>) {
    if (!spec.command.includes('{port}') && spec.port === undefined) {
      throw new RangeError("the spawn command has no '{port}': give the port it listens on (--port)");
    }
    this.#spec = spec;
    this.password = spec.password;
  }
  get address(): HostPort {
    return this.#server?.address ?? { host: this.#spec.host ?? '127.0.0.1', port: this.#spec.port ?? 0 };
  }
  get description(): string {
    return `'${this.#server?.commandLine ?? this.#spec.command}' at ${this.address.host}:${this.address.port}`;
  }
  async restart(): Promise<void> {
    await this.close();
    if (this.#server) this.#earlierOutputs = [...this.#earlierOutputs, this.#server.output.text()].slice(-4);
    const host = this.#spec.host ?? '127.0.0.1';
    // A fixed port when the command cannot be told one; otherwise a fresh free port each start, so a
    // server that lingers in shutdown cannot make the next start fail.
    const port = this.#spec.port ?? (await findFreePort(host));
    const server = new SpawnedServer({
      command: this.#spec.command,
      host,
      port,
      startTimeoutMs: this.#spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    });
    this.#server = server;
    await server.start();
  }
  serverOutput(): string {
    const outputs = [...this.#earlierOutputs, this.#server?.output.text() ?? ''];
    return outputs.filter(Boolean).join('\n--- restarted ---\n');
  }
  async close(): Promise<void> {
    await this.#server?.stop();
  }
}
