/**
 * The clients of one scenario, by label: connecting them, their handshakes, which of them are
 * members, the bare connections that only hold a place, and closing them all at the end.
 */
import type { RsaKeyPair } from '../../protocol/index.ts';
import type { Target } from '../../server-under-test/index.ts';
import { type Connection, connect, type Endpoint, formatEndpoint } from '../../transport/index.ts';
import type { ClientKeys } from './client-keys.ts';
import type { FailureDetails } from './failure.ts';
import { WireClient } from './wire-client.ts';
import { WireLog } from './wire-log.ts';

/** What the clients need of the scenario (the World provides it). */
export interface ClientsHost {
  readonly target: Target;
  /**
   * The endpoints this scenario's clients are spread over: the n-th label to connect goes to
   * endpoint n mod k, so on a room with several endpoints alice and bob are on different ones.
   */
  readonly endpoints: readonly Endpoint[];
  readonly keys: ClientKeys;
  readonly timeoutMs: number;
  /** The scenario's clock starts here (`performance.now()`). */
  readonly startedAt: number;
  /** The username a label joins with. */
  nameOf(label: string): string;
  fail(details: FailureDetails): never;
}

/** How a client connects when not as usual: another endpoint, or the WebSocket subprotocols offered. */
export interface ConnectHow {
  endpoint?: Endpoint;
  subprotocols?: string[];
}

export class ScenarioClients {
  /** The current client of each label. */
  readonly current = new Map<string, WireClient>();
  /** Labels of the clients admitted in this scenario and still members, in join order. */
  readonly members: string[] = [];
  /** Clients whose label connected again later; kept for their transcripts. */
  readonly #earlier: WireClient[] = [];
  /** Bare connections that only hold a place (e.g. up to the connection limit). */
  readonly #placeholders: Connection[] = [];
  /** The endpoint of each label, chosen when it first connects and kept when it connects again. */
  readonly #endpointOf = new Map<string, Endpoint>();
  #order = 0;

  constructor(private readonly host: ClientsHost) {}

  get(label: string): WireClient {
    const client = this.current.get(label);
    if (!client) throw new Error(`the scenario uses ${label} before ${label} connected`);
    return client;
  }

  /** Every client of the scenario, those that connected again included. */
  all(): WireClient[] {
    return [...this.#earlier, ...this.current.values()];
  }

  /** Connects `label` to the server, unless it is connected; with `keys`, or the next pair of the pool. */
  async connect(label: string, keys?: RsaKeyPair, how: ConnectHow = {}): Promise<WireClient> {
    const { host } = this;
    const existing = this.current.get(label);
    if (existing?.isOpen) return existing;
    if (existing) this.#earlier.push(existing);
    const username = host.nameOf(label);
    const again = existing ? ', connected again' : '';
    const endpoint = how.endpoint ?? this.#endpointFor(label);
    const client = await WireClient.connect({
      endpoint,
      connectOptions: {
        ...host.target.connectOptions,
        ...(how.subprotocols === undefined ? {} : { subprotocols: how.subprotocols }),
      },
      label,
      username,
      serverPassword: host.target.password,
      log: new WireLog(`transcript of ${label} (username ${username}${again})`, host.startedAt),
      nextOrder: () => ++this.#order,
      startedAt: host.startedAt,
      connectTimeoutMs: host.timeoutMs,
    }).catch((error: Error) =>
      host.fail({
        expected: `${label} can connect to ${host.endpoints.length > 1 ? formatEndpoint(endpoint) : host.target.description}`,
        actual: error.message,
        hint: 'The server stopped accepting connections (did it crash on the previous step?).',
      }),
    );
    client.keys = keys ?? host.keys.next();
    this.current.set(label, client);
    return client;
  }

  #endpointFor(label: string): Endpoint {
    let endpoint = this.#endpointOf.get(label);
    if (endpoint === undefined) {
      const { endpoints } = this.host;
      endpoint = endpoints[this.#endpointOf.size % endpoints.length]!;
      this.#endpointOf.set(label, endpoint);
    }
    return endpoint;
  }

  /** Where each label connected, `alice on tcp://127.0.0.1:8881`, in the order they first did. */
  placement(): string[] {
    return [...this.#endpointOf].map(([label, endpoint]) => `${label} on ${formatEndpoint(endpoint)}`);
  }

  /** Sends a handshake for `label` with the given fields changed (`undefined` removes a field). */
  sendHandshake(label: string, overrides: Record<string, unknown> = {}): void {
    const client = this.get(label);
    const fields = client.handshakeFields(overrides);
    for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete fields[name];
    if (typeof fields.username === 'string') client.requestedNames.push(fields.username);
    client.beginJoin();
    client.send(fields);
  }

  /** `label` is in the room now. */
  admit(label: string): void {
    if (!this.members.includes(label)) this.members.push(label);
  }

  /** `label` is not in the room any more. */
  forget(label: string): void {
    const index = this.members.indexOf(label);
    if (index !== -1) this.members.splice(index, 1);
  }

  /** Closes the connection of `label` gracefully and waits (bounded) for the server to close its side. */
  async leave(label: string): Promise<void> {
    await this.get(label).leave(this.host.timeoutMs);
    this.forget(label);
  }

  /** Ends the connection of `label` abruptly. */
  reset(label: string): void {
    this.get(label).reset();
    this.forget(label);
  }

  /**
   * Opens `count` connections that send nothing and read nothing, to use up places; resolves once
   * all are connected. Connections the server refuses at once count too: the limit is reached.
   */
  async holdConnections(count: number): Promise<void> {
    const { target, timeoutMs } = this.host;
    const opened = Array.from({ length: count }, async () => {
      const connection = await connect(target.endpoint, { ...target.connectOptions, timeoutMs });
      this.#placeholders.push(connection);
    });
    await Promise.all(opened).catch((error: Error) =>
      this.host.fail({
        expected: `${count} connections to ${formatEndpoint(target.endpoint)} can be opened`,
        actual: error.message,
        hint: 'Accept connections until the limit; refuse the ones beyond it with auth_error "Server full".',
      }),
    );
  }

  /** Closes every client and waits (briefly) for the server to close its side, so the next
   * scenario does not see this one's departures. */
  async closeAll(): Promise<void> {
    const waitMs = Math.min(1000, this.host.timeoutMs);
    // Each placeholder waits for the server to close its side, so its place is free for the next scenario.
    await Promise.all(this.#placeholders.splice(0).map((connection) => closeGracefully(connection, waitMs)));
    await Promise.all([...this.current.values()].map((client) => client.leave(waitMs)));
  }

  /** Each client's transcript, for the evidence of a failing scenario. */
  transcripts(): { label: string; text: string }[] {
    return this.all().map((client) => ({ label: client.label, text: client.log.render() }));
  }
}

/** Ends a connection gracefully and waits, at most `timeoutMs`, for the peer to close its side. */
function closeGracefully(connection: Connection, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => connection.destroy(), timeoutMs);
    connection.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    connection.resume();
    connection.end();
  });
}
