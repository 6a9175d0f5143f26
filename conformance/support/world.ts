/**
 * The World of one scenario: the one object through which steps drive the server under test. A
 * facade: each concern lives in a module of its own (names, the clients, room load, expectations,
 * failure descriptions, notes between steps), and the World hands the steps what they need. Every
 * check fails through `fail()`, so every failure names the scenario's requirements, what was
 * expected, what happened, and a hint.
 */
import { type IWorldOptions, World } from '@cucumber/cucumber';
import type { Limits, RsaKeyPair } from '../../protocol/index.ts';
import type { Target } from '../../server-under-test/index.ts';
import type { Endpoint } from '../../transport/index.ts';
import { requirementIdsOf } from '../requirements.ts';
import type { ConformanceWorldParameters } from '../world-parameters.ts';
import type { ClientKeys } from './client-keys.ts';
import { Expectations, type ExpectOptions, type Probe } from './expectations.ts';
import { ConformanceFailure, type FailureDetails, formatFailure } from './failure.ts';
import { describeLine, describeSince } from './received-descriptions.ts';
import { chatTextOf, type LineMatch, type ReceivedLine } from './received-line.ts';
import { burst, flood, type LoadReport, type LoadRoom } from './room-load.ts';
import { type RunContext, runContext } from './run-context.ts';
import { type ConnectHow, ScenarioClients } from './scenario-clients.ts';
import { ScenarioNames } from './scenario-names.ts';
import { noted, type ScenarioNotes } from './scenario-notes.ts';
import { SeededBytes } from './seeded-bytes.ts';
import type { WireClient } from './wire-client.ts';

export class ConformanceWorld extends World<ConformanceWorldParameters> {
  requirementIds: string[] = [];
  startedAt = performance.now();
  /** What one step leaves for a later one: the payload sent, the password tried, ... */
  readonly notes: ScenarioNotes = {};
  readonly #clients = new ScenarioClients(this);
  /** Which of the target's endpoints this scenario's clients connect to: all, unless kept to some. */
  #keep: ((endpoint: Endpoint) => boolean) | undefined;
  /** Made again in `begin()`, with the scenario's own tag. */
  #names = new ScenarioNames('', this.#clients.current);
  readonly #expect = new Expectations(this);

  constructor(options: IWorldOptions<ConformanceWorldParameters>) {
    super(options);
  }

  /** The scenario's random inputs, from the run's seed (made again in `begin()`). */
  random = new SeededBytes(0, '');

  /** The scenario's name, for the reports of the prerequisites it failed. */
  scenarioName = '';

  /** Called by the Before hook. */
  begin(tags: readonly string[], scope: string, name: string): void {
    this.scenarioName = name;
    this.random = new SeededBytes(this.parameters.seed, scope);
    this.requirementIds = requirementIdsOf(tags);
    this.#names = new ScenarioNames(this.run.nextScenarioTag(), this.#clients.current);
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

  /** The endpoints this scenario's clients are spread over (scenario-clients.ts). */
  get endpoints(): readonly Endpoint[] {
    const all = this.target.endpoints;
    return this.#keep === undefined ? all : all.filter(this.#keep);
  }

  /** The scenario's first endpoint: where a check about one connection's wire connects. */
  get endpoint(): Endpoint {
    return this.endpoints[0] ?? this.target.endpoint;
  }

  /**
   * Keeps the clients of this scenario to the target's endpoints that pass `applies`: for scenarios
   * about one transport's wire, on a room whose endpoints mix transports. A rule, not a list: a
   * spawned server restarted before the scenario listens on a new port.
   */
  keepTo(applies: (endpoint: Endpoint) => boolean): void {
    this.#keep = applies;
  }

  /** Where each client connected, for the report of a room with several endpoints. */
  placement(): string[] {
    return this.#clients.placement();
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

  /** The note an earlier step of the scenario made; an error that says so when none did. */
  noted<K extends keyof ScenarioNotes>(key: K): NonNullable<ScenarioNotes[K]> {
    return noted(this.notes, key);
  }

  // --- names (scenario-names.ts) -------------------------------------------------------------

  /** The username a label joins with: unique per run, worker and scenario, e.g. `alice-q7x.12`. */
  nameOf(label: string): string {
    return this.#names.nameOf(label);
  }

  /** The name a label was (or will be) admitted with: its last requested name, else its own. */
  memberName(label: string): string {
    return this.#names.memberName(label);
  }

  /** A unique name for something that is not a client (e.g. the name of a second handshake). */
  extraName(word: string): string {
    return this.#names.extraName(word);
  }

  /** Replaces `{alice}` in a text from a feature file by alice's username. */
  fill(template: string): string {
    return this.#names.fill(template);
  }

  /** Whether a line is traffic about people outside this scenario (another scenario on a shared server). */
  isForeign(line: ReceivedLine): boolean {
    return this.#names.isForeign(line);
  }

  // --- clients (scenario-clients.ts) ---------------------------------------------------------

  /** Labels of the clients admitted in this scenario and still members, in join order. */
  get members(): readonly string[] {
    return this.#clients.members;
  }

  client(label: string): WireClient {
    return this.#clients.get(label);
  }

  /** Every client of the scenario, those that connected again included. */
  allClients(): WireClient[] {
    return this.#clients.all();
  }

  transcripts(): { label: string; text: string }[] {
    return this.#clients.transcripts();
  }

  /** Connects `label` to the server (another endpoint or other WebSocket subprotocols with `how`). */
  connect(label: string, keys?: RsaKeyPair, how?: ConnectHow): Promise<WireClient> {
    return this.#clients.connect(label, keys, how);
  }

  /** Sends a handshake for `label` with the given fields changed (`undefined` removes a field). */
  sendHandshake(label: string, overrides?: Record<string, unknown>): void {
    this.#clients.sendHandshake(label, overrides);
  }

  /** Connects (if not connected) and sends a handshake with the given fields changed. */
  async handshakeFrom(label: string, overrides?: Record<string, unknown>): Promise<void> {
    await this.connect(label);
    this.sendHandshake(label, overrides);
  }

  /** Connects (if needed), sends a valid handshake and waits until the client is admitted. */
  async join(label: string): Promise<WireClient> {
    const client = await this.connect(label);
    return this.run.prerequisites.establish('being admitted', this.scenarioName, async () => {
      this.sendHandshake(label);
      await this.expectAdmitted(label);
      return client;
    });
  }

  /**
   * Joins each label in turn, then lets every member catch up with the joins: the room most
   * scenarios start from, a prerequisite that ends them at once when the server cannot provide it.
   */
  async joinAll(labels: readonly string[]): Promise<void> {
    for (const label of labels) await this.join(label);
    await this.run.prerequisites.establish('joining the room', this.scenarioName, () =>
      this.#expect.settle(),
    );
  }

  /** Connects each label, a prerequisite of the scenarios that start from connected clients. */
  async connectAll(labels: readonly string[]): Promise<void> {
    await this.run.prerequisites.establish('connecting', this.scenarioName, async () => {
      for (const label of labels) await this.connect(label);
    });
  }

  /** Sends `text` from a member, sealed with the room key as a v1 client does. */
  sendChat(label: string, text: string): void {
    const client = this.client(label);
    client.send({ type: 'message', message: client.seal(text), encrypted: true });
  }

  leave(label: string): Promise<void> {
    return this.#clients.leave(label);
  }

  reset(label: string): void {
    this.#clients.reset(label);
  }

  /** Opens `count` connections that only hold a place; they are closed with the scenario. */
  holdConnections(count: number): Promise<void> {
    return this.#clients.holdConnections(count);
  }

  /** Closes every client and placeholder, waiting briefly for the server to close its side. */
  closeAll(): Promise<void> {
    return this.#clients.closeAll();
  }

  // --- load (room-load.ts) -------------------------------------------------------------------

  /** `sender` floods the room with more than the pending-output limit, paced to the readers. */
  flood(sender: string): Promise<LoadReport> {
    return flood(this.#loadRoom(sender));
  }

  /** `sender` sends several times the pending-output limit at once. */
  burst(sender: string): Promise<LoadReport> {
    return burst(this.#loadRoom(sender));
  }

  #loadRoom(sender: string): LoadRoom {
    const reading = this.members.filter((label) => this.client(label).reading);
    return {
      sender: { label: sender, client: this.client(sender), name: this.memberName(sender) },
      readers: new Map(reading.map((label) => [label, this.client(label)])),
      someoneStopped: reading.length < this.members.length,
      limits: this.limits,
      timeoutMs: this.timeoutMs,
    };
  }

  // --- checks (expectations.ts) --------------------------------------------------------------

  fail(details: FailureDetails): never {
    throw new ConformanceFailure(
      formatFailure(this.requirementIds, this.run.requirements, details, this.limits),
      this.requirementIds,
    );
  }

  /** Waits for the first unread line of `label` that matches, consuming the lines up to it. */
  expectLine(
    label: string,
    match: LineMatch,
    expected: string,
    options?: ExpectOptions,
  ): Promise<ReceivedLine> {
    return this.#expect.line(label, match, expected, options);
  }

  /** Waits for the key_exchange and a user_list naming the client, and records it as a member. */
  async expectAdmitted(label: string): Promise<void> {
    await this.#expect.admitted(label);
    this.#clients.admit(label);
  }

  /** Expects the server to close the connection of `label`. */
  async expectEnd(label: string, expected?: string, hint?: string): Promise<void> {
    await this.#expect.end(label, expected, hint);
    this.#clients.forget(label);
  }

  /** Expects the connection of `label` to be open after a short grace period. */
  expectStaysOpen(label: string): Promise<void> {
    return this.#expect.staysOpen(label);
  }

  /** A chat message from `label` and its echo: proof that the member is still served. */
  probe(label: string, expected?: string): Promise<Probe> {
    return this.#expect.probe(label, expected);
  }

  /** The server ignores the input: it sends nothing back and keeps the connection open. */
  expectNothingSentBack(label: string): Promise<void> {
    return this.#expect.nothingSentBack(label);
  }

  /** Each member sends a chat message and every member, the sender included, receives it. */
  async expectRoomWorks(labels: readonly string[]): Promise<void> {
    for (const sender of labels) {
      const text = `still working? (${sender})`;
      this.sendChat(sender, text);
      for (const receiver of labels) await this.expectChat(receiver, sender, text);
    }
  }

  /** Fails if `label` received a line that matches (since the last check, or with `all` ever). */
  expectNoLine(
    label: string,
    match: LineMatch,
    expected: string,
    options?: { all?: boolean; probe?: string },
  ): Promise<void> {
    return this.#expect.noLine(label, match, expected, options);
  }

  /** Matches a chat message from `sender` carrying `text`. */
  chatFrom(sender: string, text: string): LineMatch {
    return this.#expect.chatFrom(sender, text);
  }

  expectChat(receiver: string, sender: string, text: string): Promise<ReceivedLine> {
    return this.#expect.chat(receiver, sender, text);
  }

  /** The text of a received chat line: decrypted when encrypted, as sent when plain. */
  textOf(line: ReceivedLine): string | undefined {
    return chatTextOf(line);
  }

  // --- descriptions for failure messages (received-descriptions.ts) ---------------------------

  describeLine(line: ReceivedLine | undefined): string {
    return describeLine(line);
  }

  /** What a client received from line `from` on (other scenarios' traffic left out), and how its connection stands. */
  describeSince(client: WireClient, from: number, waitedMs: number): string {
    return describeSince(client, from, waitedMs, (line) => this.isForeign(line));
  }
}
