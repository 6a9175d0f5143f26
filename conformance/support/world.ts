/**
 * The World of one scenario: its wire-level test clients, named by label (`alice`), and the helpers
 * steps use to act and to check. Every check fails through `fail()`, so every failure names the
 * scenario's requirements, what was expected, what happened, and a hint.
 */
import { type IWorldOptions, World } from '@cucumber/cucumber';
import type { Limits, RsaKeyPair } from '../../protocol/index.ts';
import type { Target } from '../../server-under-test/index.ts';
import { type Connection, connect, type Endpoint, formatEndpoint } from '../../transport/index.ts';
import { requirementIdsOf } from '../requirements.ts';
import type { ConformanceWorldParameters } from '../world-parameters.ts';
import type { ClientKeys } from './client-keys.ts';
import { ConformanceFailure, type FailureDetails, formatFailure } from './failure.ts';
import { type RunContext, runContext } from './run-context.ts';
import { type ReceivedLine, WireClient } from './wire-client.ts';
import { abbreviate, quoteShort, WireLog } from './wire-log.ts';

export type LineMatch = (line: ReceivedLine) => boolean;

export interface ExpectOptions {
  timeoutMs?: number;
  hint?: string;
}

/** What `flood` sent, and which reading member fell behind. */
export interface FloodReport {
  sender: string;
  texts: string[];
  bytes: number;
  /** Per reading member: how many of the texts it received, in order, before the flood ended or stalled. */
  received: Map<string, number>;
  /** The first reading member that did not get a batch within the timeout, with what it had then. */
  stall?: { label: string; received: number; expected: number; outOfOrder?: string };
}

/** A flood is sent in batches of about this many bytes, each awaited by every reading member. */
const FLOOD_BATCH_BYTES = 1024 * 1024;
/** Beyond the pending-output limit, the kernel's socket buffers of a reader that stopped take a few MiB. */
const KERNEL_BUFFER_ALLOWANCE = 16 * 1024 * 1024;

export class ConformanceWorld extends World<ConformanceWorldParameters> {
  readonly clients = new Map<string, WireClient>();
  /** Clients whose label connected again later; kept for their transcripts. */
  readonly #earlierClients: WireClient[] = [];
  /** Labels of the clients admitted in this scenario and still members, in join order. */
  readonly members: string[] = [];
  requirementIds: string[] = [];
  startedAt = performance.now();
  /** Values one step leaves for a later one: the payload sent, the password tried, ... */
  readonly remembered = new Map<string, unknown>();
  #scenarioTag = '';
  #order = 0;
  #probes = 0;
  readonly #names = new Map<string, string>();
  /** Names sent in handshakes other than the clients' own (e.g. a second handshake's). */
  readonly #otherNames = new Set<string>();
  /** Bare connections that only hold a place (e.g. up to the connection limit). */
  readonly #placeholders: Connection[] = [];

  constructor(options: IWorldOptions<ConformanceWorldParameters>) {
    super(options);
  }

  /** Called by the Before hook. */
  begin(tags: readonly string[]): void {
    this.requirementIds = requirementIdsOf(tags);
    this.#scenarioTag = runContext().nextScenarioTag();
    this.startedAt = performance.now();
  }

  // --- context -------------------------------------------------------------------------------

  /** What every scenario of this process shares. */
  get run(): RunContext {
    return runContext();
  }

  get target(): Target {
    return this.run.target;
  }

  /** The keys test clients present, the unusable ones included. */
  get keys(): ClientKeys {
    return this.run.keys;
  }

  /** A scenario stopped the server or used up its places: a fresh one for the next scenario. */
  restartServerBeforeNextScenario(): void {
    this.run.restartBeforeNextScenario();
  }

  get timeoutMs(): number {
    return this.parameters.timeoutMs;
  }

  get limits(): Limits {
    return this.parameters.limits;
  }

  /** How long to watch for something that must NOT happen, when nothing better can prove it. */
  get graceMs(): number {
    return Math.min(300, this.timeoutMs);
  }

  // --- names ---------------------------------------------------------------------------------

  /** The username a label joins with: unique per run, worker and scenario, e.g. `alice-q7x.12`. */
  nameOf(label: string): string {
    let name = this.#names.get(label);
    if (!name) {
      name = `${label}-${this.#scenarioTag}`;
      this.#names.set(label, name);
    }
    return name;
  }

  /** The name a label was (or will be) admitted with: its last requested name, else its own. */
  memberName(label: string): string {
    return this.clients.get(label)?.requestedNames.at(-1) ?? this.nameOf(label);
  }

  /** A unique name for something that is not a client (e.g. the name of a second handshake). */
  extraName(word: string): string {
    const name = `${word}-${this.#scenarioTag}`;
    this.#otherNames.add(name);
    return name;
  }

  /** Replaces `{alice}` in a text from a feature file by alice's username. */
  fill(template: string): string {
    return template.replace(/\{([a-z0-9]+)\}/g, (_all, label: string) => this.memberName(label));
  }

  /** Whether a line is traffic about people outside this scenario (another scenario on a shared server). */
  isForeign(line: ReceivedLine): boolean {
    const message = line.message;
    if (!message) return false;
    const ours = (name: string) =>
      [...this.#names.values()].includes(name) ||
      this.#otherNames.has(name) ||
      [...this.clients.values()].some((client) => client.requestedNames.includes(name));
    if (message.type === 'message') return !ours(message.sender);
    if (message.type === 'system') {
      const about = /^(.*) has (?:joined|left) the chat$/s.exec(message.message);
      return about !== null && !ours(about[1]!);
    }
    return false;
  }

  // --- clients -------------------------------------------------------------------------------

  client(label: string): WireClient {
    const client = this.clients.get(label);
    if (!client) throw new Error(`the scenario uses ${label} before ${label} connected`);
    return client;
  }

  /**
   * Connects `label` to the server. `how` changes the connection: another endpoint (the same port
   * without TLS, say), or the WebSocket subprotocols offered.
   */
  async connect(
    label: string,
    keys?: RsaKeyPair,
    how: { endpoint?: Endpoint; subprotocols?: string[] } = {},
  ): Promise<WireClient> {
    const existing = this.clients.get(label);
    if (existing?.isOpen) return existing;
    if (existing) this.#earlierClients.push(existing);
    const username = this.nameOf(label);
    const again = existing ? ', connected again' : '';
    const client = await WireClient.connect({
      endpoint: how.endpoint ?? this.target.endpoint,
      connectOptions: {
        ...this.target.connectOptions,
        ...(how.subprotocols === undefined ? {} : { subprotocols: how.subprotocols }),
      },
      label,
      username,
      serverPassword: this.target.password,
      log: new WireLog(`transcript of ${label} (username ${username}${again})`, this.startedAt),
      nextOrder: () => ++this.#order,
      startedAt: this.startedAt,
      connectTimeoutMs: this.timeoutMs,
    }).catch((error: Error) =>
      this.fail({
        expected: `${label} can connect to ${this.target.description}`,
        actual: error.message,
        hint: 'The server stopped accepting connections (did it crash on the previous step?).',
      }),
    );
    client.keys = keys ?? this.keys.next();
    this.clients.set(label, client);
    return client;
  }

  /** Sends a handshake for `label` with the given fields changed (`undefined` removes a field). */
  sendHandshake(label: string, overrides: Record<string, unknown> = {}): void {
    const client = this.client(label);
    const fields = client.handshakeFields(overrides);
    for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete fields[name];
    if (typeof fields.username === 'string') client.requestedNames.push(fields.username);
    client.beginJoin();
    client.send(fields);
  }

  /** Connects (if not connected) and sends a handshake with the given fields changed. */
  async handshakeFrom(label: string, overrides: Record<string, unknown> = {}): Promise<void> {
    await this.connect(label);
    this.sendHandshake(label, overrides);
  }

  /** Connects (if needed), sends a valid handshake and waits until the client is admitted. */
  async join(label: string): Promise<WireClient> {
    const client = await this.connect(label);
    this.sendHandshake(label);
    await this.expectAdmitted(label);
    return client;
  }

  /** Joins each label in turn, then lets every member catch up with the joins. */
  async joinAll(labels: readonly string[]): Promise<void> {
    for (const label of labels) await this.join(label);
    await this.settle();
  }

  /**
   * Waits for the key_exchange and a user_list naming the client, and records it as a member.
   * A precondition for most scenarios, so its failure says plainly that joining failed.
   */
  async expectAdmitted(label: string): Promise<void> {
    const client = this.client(label);
    const name = client.requestedNames.at(-1) ?? client.username;
    // The protocol's join state machine decides first; a refusal is said in the server's words.
    await client.waitUntil(
      () => client.join !== undefined && client.join.state !== 'pending',
      this.timeoutMs,
    );
    const refusal = client.join?.refusal;
    if (refusal !== undefined && refusal.reason !== 'key_unusable') {
      this.fail({
        expected: `${label} is admitted in answer to its handshake`,
        actual: `${label} was refused: ${refusal.reason === 'auth_error' ? 'auth_error' : 'system'} ${JSON.stringify(refusal.serverMessage)}`,
        hint: 'A valid handshake must be answered with key_exchange and user_list (ECP-HS-02).',
      });
    }
    await this.expectLine(
      label,
      (line) => line.message?.type === 'key_exchange',
      `${label} is admitted: a key_exchange in answer to the handshake`,
      { hint: 'A valid handshake must be answered with key_exchange and user_list (ECP-HS-02).' },
    );
    await this.expectLine(
      label,
      (line) => line.message?.type === 'user_list' && line.message.users.includes(name),
      `${label} is admitted: a user_list that includes ${name}`,
      { hint: 'A valid handshake must be answered with key_exchange and user_list (ECP-HS-02).' },
    );
    if (!client.roomKey) {
      this.fail({
        expected: `the key_exchange sent to ${label} decrypts with ${label}'s private key`,
        actual: `it does not: ${client.roomKeyProblem ?? 'no key_exchange could be read'}`,
        hint: 'encrypted_key = base64(RSA-OAEP-SHA256(client public key, the 44-character Fernet key text)) (ECP-KX-03).',
      });
    }
    if (!this.members.includes(label)) this.members.push(label);
  }

  /**
   * Brings every member's unread position past the joins so far: the user_list naming every
   * member of the scenario, and the join notice right after it when the server sends one.
   */
  async settle(): Promise<void> {
    const names = this.members.map((label) => this.memberName(label));
    const newest = names.at(-1);
    const namesEveryone = (line: ReceivedLine) =>
      line.message?.type === 'user_list' &&
      names.every((name) => line.message?.type === 'user_list' && line.message.users.includes(name));
    for (const label of this.members) {
      const client = this.client(label);
      // The newest member's own user_list was already read when it was admitted.
      const seen = client.lines.findLast(namesEveryone);
      const latest = seen ? client.readPast(seen) : await client.next(namesEveryone, this.timeoutMs);
      if (!latest) {
        this.fail({
          expected: `${label} receives a user_list naming every member of the scenario (${names.join(', ')})`,
          actual: this.describeUnread(client),
          hint: 'Send the updated user_list to every member whenever someone is admitted (ECP-HS-04).',
        });
      }
      if (newest && label !== this.members.at(-1)) {
        const notice = `${newest} has joined the chat`;
        const following = await client.waitForUnread(1, 50);
        if (following[0]?.message?.type === 'system' && following[0].message.message === notice)
          client.consume(1);
      }
    }
  }

  async leave(label: string): Promise<void> {
    await this.client(label).leave(this.timeoutMs);
    this.#forget(label);
  }

  reset(label: string): void {
    this.client(label).reset();
    this.#forget(label);
  }

  #forget(label: string): void {
    const index = this.members.indexOf(label);
    if (index !== -1) this.members.splice(index, 1);
  }

  /** Closes every client and waits (briefly) for the server to close its side, so the next
   * scenario does not see this one's departures. */
  async closeAll(): Promise<void> {
    // Each placeholder waits for the server to close its side, so its place is free for the next scenario.
    await Promise.all(
      this.#placeholders
        .splice(0)
        .map((connection) => closeGracefully(connection, Math.min(1000, this.timeoutMs))),
    );
    await Promise.all(
      [...this.clients.values()].map((client) => client.leave(Math.min(1000, this.timeoutMs))),
    );
  }

  /**
   * Opens `count` connections that send nothing and read nothing, to use up places; resolves once
   * all are connected. Connections the server refuses at once count too: the limit is reached.
   */
  async holdConnections(count: number): Promise<void> {
    const where = formatEndpoint(this.target.endpoint);
    const opened = Array.from({ length: count }, async () => {
      const connection = await connect(this.target.endpoint, {
        ...this.target.connectOptions,
        timeoutMs: this.timeoutMs,
      });
      this.#placeholders.push(connection);
    });
    await Promise.all(opened).catch((error: Error) =>
      this.fail({
        expected: `${count} connections to ${where} can be opened`,
        actual: error.message,
        hint: 'Accept connections until the limit; refuse the ones beyond it with auth_error "Server full".',
      }),
    );
  }

  /**
   * Sends sealed chat messages from `sender` until more than `bytes` have gone out, in batches
   * that every reading member (the sender included) must receive, complete and in order, within
   * the timeout. Stops at the first stall; the report says who fell behind.
   */
  async flood(sender: string, bytes: number): Promise<FloodReport> {
    const client = this.client(sender);
    const name = this.memberName(sender);
    const readers = this.members.filter((label) => this.client(label).reading);
    const scanned = new Map(readers.map((label) => [label, this.client(label).lines.length]));
    const report: FloodReport = {
      sender,
      texts: [],
      bytes: 0,
      received: new Map(readers.map((l) => [l, 0])),
    };
    // As large as the line limit allows (a sealed text is about 1.8 times its length), at most 32 KiB.
    const textBytes = Math.max(16, Math.min(32 * 1024, Math.floor((this.limits.maxLineBytes - 512) / 1.9)));
    let outOfOrder: string | undefined;
    const advance = (label: string): number => {
      const lines = this.client(label).lines;
      let got = report.received.get(label)!;
      for (let index = scanned.get(label)!; index < lines.length; index++) {
        const line = lines[index]!;
        if (line.message?.type !== 'message' || line.message.sender !== name) continue;
        const text = this.textOf(line) ?? '';
        if (!text.startsWith('flood ')) continue;
        if (text === report.texts[got]) got++;
        else
          outOfOrder ??= `${label} received "${text.slice(0, 24)}…" where "${report.texts[got]?.slice(0, 24)}…" was due`;
      }
      scanned.set(label, lines.length);
      report.received.set(label, got);
      return got;
    };
    // A member that stopped reading may hold the room back until it is found slow (ECP-LIM-03).
    const patienceMs =
      this.timeoutMs + (readers.length < this.members.length ? this.limits.slowReaderTimeoutMs : 0);
    while (report.bytes <= bytes) {
      const batch: string[] = [];
      let batchBytes = 0;
      while (batchBytes < FLOOD_BATCH_BYTES) {
        const text = `flood ${String(report.texts.length + batch.length + 1).padStart(6, '0')} `.padEnd(
          textBytes,
          '~',
        );
        const line = `${JSON.stringify({ type: 'message', message: client.seal(text), encrypted: true })}\n`;
        batch.push(line);
        report.texts.push(text);
        batchBytes += line.length;
      }
      client.sendBytes(
        Buffer.from(batch.join('')),
        `${batch.length} chat messages of ${textBytes} characters (flood)`,
      );
      report.bytes += batchBytes;
      for (const label of readers) {
        const reader = this.client(label);
        const due = report.texts.length;
        if (!(await reader.waitUntil(() => advance(label) >= due && outOfOrder === undefined, patienceMs))) {
          report.stall = { label, received: report.received.get(label)!, expected: due };
          if (outOfOrder !== undefined) report.stall.outOfOrder = outOfOrder;
          return report;
        }
      }
    }
    return report;
  }

  /** How much a flood must send to take a reader that stopped past the pending-output limit. */
  get floodBytes(): number {
    return 2 * this.limits.maxPendingOutputBytes + KERNEL_BUFFER_ALLOWANCE;
  }

  /** Every client of the scenario, those that connected again included. */
  allClients(): WireClient[] {
    return [...this.#earlierClients, ...this.clients.values()];
  }

  transcripts(): { label: string; text: string }[] {
    return this.allClients().map((client) => ({
      label: client.label,
      text: client.log.render(),
    }));
  }

  // --- checks --------------------------------------------------------------------------------

  fail(details: FailureDetails): never {
    throw new ConformanceFailure(
      formatFailure(this.requirementIds, this.run.requirements, details, this.limits),
      this.requirementIds,
    );
  }

  /** Waits for the first unread line of `label` that matches, consuming the lines up to it. */
  async expectLine(
    label: string,
    match: LineMatch,
    expected: string,
    options: ExpectOptions = {},
  ): Promise<ReceivedLine> {
    const client = this.client(label);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const from = client.lines.length - client.unread.length;
    const line = await client.next(match, timeoutMs);
    if (line) return line;
    const details: FailureDetails = {
      expected: `${expected} (within ${Math.round(timeoutMs)} ms)`,
      actual: this.describeSince(client, from, timeoutMs),
    };
    if (options.hint) details.hint = options.hint;
    this.fail(details);
  }

  /** Expects the server to close the connection of `label`. */
  async expectEnd(
    label: string,
    expected = `the server closes ${label}'s connection`,
    hint?: string,
  ): Promise<void> {
    const client = this.client(label);
    if (await client.waitForEnd(this.timeoutMs)) {
      this.#forget(label);
      return;
    }
    const details: FailureDetails = {
      expected: `${expected} (within ${this.timeoutMs} ms)`,
      actual: `the connection is still open after ${this.timeoutMs} ms (last line from ${label}: ${this.describeLine(client.lastLine)})`,
    };
    if (hint) details.hint = hint;
    this.fail(details);
  }

  /** Expects the connection of `label` to be open after a short grace period. */
  async expectStaysOpen(label: string): Promise<void> {
    const client = this.client(label);
    if (await client.waitForEnd(this.graceMs)) {
      this.fail({
        expected: `${label}'s connection stays open`,
        actual: `${client.ended?.how ?? 'it ended'} at ${client.ended?.atMs.toFixed(0)} ms (last line from ${label}: ${this.describeLine(client.lastLine)})`,
      });
    }
  }

  /**
   * Sends a chat message from a member and waits for its echo: what the member received before the
   * echo is returned (without other scenarios' traffic), and consumed. Proves that the server is
   * still serving the member and shows whatever it sent in between.
   */
  async probe(label: string, expected?: string): Promise<ReceivedLine[]> {
    const client = this.client(label);
    const text = `probe ${++this.#probes} from ${label}`;
    const payload = client.roomKey ? client.seal(text) : text;
    client.send({ type: 'message', message: payload, encrypted: client.roomKey !== undefined });
    const from = client.lines.length - client.unread.length;
    const echo = await client.next(
      (line) => line.message?.type === 'message' && line.message.message === payload,
      this.timeoutMs,
    );
    if (!echo) {
      this.fail({
        expected:
          expected ??
          `${label} is still served: the echo of a chat message "${text}" that ${label} sent afterwards`,
        actual: this.describeSince(client, from, this.timeoutMs),
      });
    }
    this.remembered.set(`probe:${label}`, payload);
    return client.lines.slice(from, echo.index).filter((line) => !this.isForeign(line));
  }

  /**
   * After input the server must ignore: the connection stays open and the server sends nothing
   * back, which the echo of a later chat message proves for members (nothing came before it).
   */
  async expectNothingSentBack(label: string): Promise<void> {
    const client = this.client(label);
    const from = client.lines.length - client.unread.length;
    const answered = this.members.includes(label)
      ? (await this.probe(label))[0]
      : (await client.waitForUnread(1, this.graceMs)).find((line) => !this.isForeign(line));
    if (answered) {
      this.fail({
        expected: `the server ignores the input: nothing is sent back to ${label}`,
        actual: `${label} received ${this.describeLine(answered)}`,
      });
    }
    if (!client.isOpen) {
      this.fail({
        expected: `the server ignores the input and keeps ${label}'s connection open`,
        actual: this.describeSince(client, from, this.graceMs),
      });
    }
  }

  /** Each member sends a chat message and every member, the sender included, receives it. */
  async expectRoomWorks(labels: readonly string[]): Promise<void> {
    for (const sender of labels) {
      const text = `still working? (${sender})`;
      this.sendChat(sender, text);
      for (const receiver of labels) await this.expectChat(receiver, sender, text);
    }
  }

  /**
   * Fails if `label` received a line that matches. A chat message `label` sends, and its echo,
   * prove first that everything the server sent before it has arrived. Only what arrived since the
   * last check counts (other scenarios' traffic left out), or with `all` every line of the connection.
   */
  async expectNoLine(
    label: string,
    match: LineMatch,
    expected: string,
    options: { all?: boolean; probe?: string } = {},
  ): Promise<void> {
    const recent = await this.probe(label, options.probe);
    const found = (options.all ? this.client(label).lines : recent).find(match);
    if (found) this.fail({ expected, actual: `${label} received ${this.describeLine(found)}` });
  }

  /** The text of a received chat line: decrypted when encrypted, as sent when plain. */
  textOf(line: ReceivedLine): string | undefined {
    if (line.message?.type !== 'message') return undefined;
    return line.message.encrypted ? line.decrypted : line.message.message;
  }

  /** Matches a chat message from `sender` carrying `text`. */
  chatFrom(sender: string, text: string): LineMatch {
    const name = this.memberName(sender);
    return (line) =>
      line.message?.type === 'message' && line.message.sender === name && this.textOf(line) === text;
  }

  async expectChat(receiver: string, sender: string, text: string): Promise<ReceivedLine> {
    return this.expectLine(
      receiver,
      this.chatFrom(sender, text),
      `${receiver} receives {"type":"message","sender":"${this.memberName(sender)}",...} carrying ${JSON.stringify(text)}`,
    );
  }

  /** Sends `text` from a member, sealed with the room key as a v1 client does. */
  sendChat(label: string, text: string): void {
    const client = this.client(label);
    client.send({ type: 'message', message: client.seal(text), encrypted: true });
  }

  // --- descriptions for failure messages -----------------------------------------------------

  describeLine(line: ReceivedLine | undefined): string {
    if (!line) return 'none';
    return (
      abbreviate(line.text) +
      (line.decrypted !== undefined ? ` (decrypted: ${quoteShort(line.decrypted)})` : '')
    );
  }

  describeUnread(client: WireClient): string {
    return this.describeSince(client, client.lines.length - client.unread.length, this.timeoutMs);
  }

  /** What a client received from line `from` on, and how its connection stands. */
  describeSince(client: WireClient, from: number, waitedMs: number): string {
    const lines = client.lines.slice(from).filter((line) => !this.isForeign(line));
    const parts: string[] = [];
    if (lines.length === 0) {
      parts.push(
        `nothing received${client.isOpen ? ` within ${Math.round(waitedMs)} ms` : ''} (last line from ${client.label}: ${this.describeLine(client.lastLine)})`,
      );
    } else {
      const shown = lines.slice(0, 4).map((line) => this.describeLine(line));
      parts.push(`${client.label} received ${lines.length} other line(s): ${shown.join('\n')}`);
      if (lines.length > shown.length) parts.push(`… and ${lines.length - shown.length} more`);
    }
    if (!client.isOpen) parts.push(`then ${client.ended?.how ?? 'the connection ended'}`);
    return parts.join('\n');
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
