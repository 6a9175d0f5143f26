/**
 * The server under test, however it is reached: the embedded reference server (default), a server
 * already running at a URL, or a command the kit spawns on a free port; over any transport. The
 * conformance kit and the bench both use this module, so a server is reached the same way by both.
 */
import type { Limits } from '../protocol/index.ts';
import {
  type ConnectOptions,
  type Endpoint,
  findFreePort,
  formatEndpoint,
  usesTls,
} from '../transport/index.ts';
import { sharedDevCertificate } from './dev-certificate.ts';
import { OutputTail } from './output-tail.ts';
import { startReferenceServer } from './reference-starter.ts';
import { SpawnedServer } from './spawned-server.ts';
import type { EmbeddedStarter, Target, TargetSpec, TargetTls } from './target.ts';

export { type DevCertificate, makeDevCertificate } from './dev-certificate.ts';
export { type KitChild, stopWhenKitEnds } from './kit-exit.ts';
export { addTargetOptions, parseTargetList, type TargetArgs, targetSpecFrom, tlsFrom } from './options.ts';
export { OutputTail } from './output-tail.ts';
export { startReferenceServer } from './reference-starter.ts';
export { shellQuote, stopProcessGroup, TargetStartError } from './spawned-server.ts';
export type { EmbeddedStarter, Target, TargetSpec, TargetTls } from './target.ts';

const DEFAULT_PASSWORD = 'secret123';
const DEFAULT_START_TIMEOUT_MS = 10_000;
/** The path an embedded WebSocket server listens on. */
const EMBEDDED_WS_PATH = '/ecp';

export async function openTarget(spec: TargetSpec): Promise<Target> {
  const target =
    spec.kind === 'running'
      ? new RunningTarget([spec.endpoint, ...(spec.otherEndpoints ?? [])], spec.password, spec.tls)
      : spec.kind === 'embedded'
        ? new EmbeddedTarget(spec)
        : new SpawnedTarget(spec);
  await target.restart();
  return target;
}

function connectOptionsFor(tls: TargetTls | undefined): ConnectOptions {
  const options: ConnectOptions = {};
  if (tls?.ca !== undefined) options.ca = tls.ca;
  if (tls?.insecure) options.insecure = true;
  return options;
}

class RunningTarget implements Target {
  readonly kind = 'running';
  readonly canRestart = false;
  readonly connectOptions: ConnectOptions;
  constructor(
    readonly endpoints: readonly [Endpoint, ...Endpoint[]],
    readonly password: string,
    tls: TargetTls | undefined,
  ) {
    this.connectOptions = connectOptionsFor(tls);
  }
  get endpoint(): Endpoint {
    return this.endpoints[0];
  }
  get description(): string {
    if (this.endpoints.length === 1) return `server at ${formatEndpoint(this.endpoint)}`;
    return `one room at ${this.endpoints.map(formatEndpoint).join(', ')}`;
  }
  async restart(): Promise<void> {}
  serverOutput(): string {
    return '';
  }
  async settleOutput(): Promise<number> {
    return 0;
  }
  outputBetween(): string {
    return '';
  }
  async close(): Promise<void> {}
}

class EmbeddedTarget implements Target {
  readonly kind = 'embedded';
  readonly canRestart = true;
  readonly password: string;
  endpoint: Endpoint;
  connectOptions: ConnectOptions = {};
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
    const transport = spec.transport ?? 'tcp';
    this.endpoint = {
      transport,
      host: '127.0.0.1',
      port: 0,
      path: transport === 'ws' || transport === 'wss' ? EMBEDDED_WS_PATH : '',
    };
  }
  get endpoints(): readonly Endpoint[] {
    return [this.endpoint];
  }
  get description(): string {
    return `${this.#label} at ${formatEndpoint(this.endpoint)}`;
  }
  async restart(): Promise<void> {
    await this.close();
    // A throwaway certificate for 127.0.0.1, trusted by the kit's clients as their only CA.
    const tls = usesTls(this.endpoint.transport) ? await sharedDevCertificate() : undefined;
    this.connectOptions = tls === undefined ? {} : { ca: tls.cert };
    this.#server = await this.#start({
      endpoint: { ...this.endpoint, port: 0 },
      password: this.password,
      limits: this.#limits,
      output: this.#output,
      tls,
    });
    this.endpoint = { ...this.endpoint, port: this.#server.port };
  }
  serverOutput(): string {
    return this.#output.text();
  }
  /** Its logger appends as it writes: nothing is ever in transit. */
  async settleOutput(): Promise<number> {
    return this.#output.end;
  }
  outputBetween(from: number, to: number): string {
    return this.#output.between(from, to);
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
  readonly connectOptions: ConnectOptions;
  #server: SpawnedServer | undefined;
  /** What every run of the command wrote, one after the other, each restart marked. */
  readonly #output = new OutputTail();
  readonly #spec: Extract<TargetSpec, { kind: 'spawned' }>;
  readonly #endpoint: Endpoint;

  constructor(spec: Extract<TargetSpec, { kind: 'spawned' }>) {
    if (!spec.command.includes('{port}') && spec.port === undefined) {
      throw new RangeError("the spawn command has no '{port}': give the port it listens on (--port)");
    }
    this.#spec = spec;
    this.password = spec.password;
    this.connectOptions = connectOptionsFor(spec.tls);
    this.#endpoint = spec.endpoint ?? { transport: 'tcp', host: '127.0.0.1', port: 0, path: '' };
  }
  get endpoint(): Endpoint {
    return { ...this.#endpoint, port: this.#server?.address.port ?? this.#spec.port ?? 0 };
  }
  get endpoints(): readonly Endpoint[] {
    return [this.endpoint];
  }
  get description(): string {
    return `'${this.#server?.commandLine ?? this.#spec.command}' at ${formatEndpoint(this.endpoint)}`;
  }
  async restart(): Promise<void> {
    await this.close();
    if (this.#server) {
      const { end } = this.#output;
      const newline = end === 0 || this.#output.between(end - 1, end) === '\n' ? '' : '\n';
      this.#output.append(Buffer.from(`${newline}--- restarted ---\n`));
    }
    const host = this.#endpoint.host;
    // A fixed port when the command cannot be told one; otherwise a fresh free port each start, so a
    // server that lingers in shutdown cannot make the next start fail.
    const port = this.#spec.port ?? (await findFreePort(host));
    const server = new SpawnedServer({
      command: this.#spec.command,
      password: this.#spec.password,
      host,
      port,
      startTimeoutMs: this.#spec.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      output: this.#output,
    });
    this.#server = server;
    await server.start();
  }
  serverOutput(): string {
    return this.#output.text();
  }
  async settleOutput(): Promise<number> {
    await this.#server?.settleOutput();
    return this.#output.end;
  }
  outputBetween(from: number, to: number): string {
    return this.#output.between(from, to);
  }
  async close(): Promise<void> {
    await this.#server?.stop();
  }
}
