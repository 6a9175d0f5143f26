/**
 * The World of one client scenario: the kit plays the room (a scripted peer on the chosen
 * transport, playing a v1 room as the prototype's server does) and drives the client under test
 * through the driver contract. Every check fails through `fail()`, naming the requirement, what
 * was expected and what happened; the After hook attaches the wire transcript and the client's
 * own output.
 */
import { randomBytes } from 'node:crypto';
import { type IWorldOptions, World } from '@cucumber/cucumber';
import { Fernet, notices, sealText } from '../../protocol/index.ts';
import { shellQuote } from '../../server-under-test/index.ts';
import { type PeerConnection, pythonJson, type ScriptedPeer, startPeer, V1Room } from '../peer/index.ts';
import { requirementIdsOf } from '../requirements.ts';
import { ConformanceFailure, formatFailure } from '../support/failure.ts';
import type { ClientWorldParameters } from './client-parameters.ts';
import { ClientProcess, type NumberedLine } from './client-process.ts';
import { type ClientRunContext, clientRunContext } from './client-run-context.ts';
import { CONTRACT_RULES, type ContractRule } from './driver-contract.ts';
import { WireLog } from './wire-log.ts';

/** The name the client joins with; the room is the scenario's own, so it needs no uniqueness. */
export const CLIENT_USERNAME = 'alice';
/** No scenario asks for more than a few messages: more than this is a flood. */
const MAX_CLIENT_MESSAGES = 1000;

/** Which certificate the room presents over TLS. */
export type RoomCertificate = 'matching' | 'other-host' | 'untrusted';

/** What the room does with the client's handshake. */
export type RoomPlay = 'room' | 'name-taken';

export class ClientWorld extends World<ClientWorldParameters> {
  requirementIds: string[] = [];
  readonly wire = new WireLog();
  /** The room's password; the client is given `clientPassword`. */
  password = `pw-${randomBytes(6).toString('hex')}`;
  clientPassword = this.password;
  certificate: RoomCertificate = 'matching';
  play: RoomPlay = 'room';
  room: V1Room | undefined;
  peer: ScriptedPeer | undefined;
  client: ClientProcess | undefined;
  /** The text of a scenario's long line, for the step that checks it. */
  longText: string | undefined;
  #handshake: Record<string, unknown> | undefined;
  /** Chat messages from the client already taken by a step. */
  #chatsTaken = 0;
  /** Woken on every message from the client (the room reads the same messages on its own). */
  readonly #arrivals = new Set<() => void>();
  /** Texts bob sent under a key the client holds: the only ones the client may show as his. */
  readonly genuineFromBob = new Set<string>(['welcome, alice']);
  /** Texts the user gave the client, in order. */
  readonly typed: string[] = [];
  /** How many chat messages the kit wrote to the client, by sender (whatever their payload). */
  readonly #chatsSentAs = new Map<string, number>();

  constructor(options: IWorldOptions<ClientWorldParameters>) {
    super(options);
  }

  begin(tags: readonly string[]): void {
    this.requirementIds = requirementIdsOf(tags);
  }

  get run(): ClientRunContext {
    return clientRunContext();
  }

  get timeoutMs(): number {
    return this.parameters.timeoutMs;
  }

  /** Whether the client writes what it shows (the whole driver contract) or is judged at the wire. */
  get readsOutput(): boolean {
    return this.parameters.output === 'json';
  }

  /** How long to watch for something that must NOT happen, when nothing better proves it. */
  get graceMs(): number {
    return Math.min(300, this.timeoutMs);
  }

  fail(details: { expected: string; actual: string; hint?: string }): never {
    throw new ConformanceFailure(
      formatFailure(this.requirementIds, this.run.requirements, details),
      this.requirementIds,
    );
  }

  /** A failure of the driver contract rather than of the protocol. */
  failContract(rule: ContractRule, actual: string): never {
    this.fail({
      expected: `the driver contract, ${CONTRACT_RULES[rule]}`,
      actual,
      hint: 'See docs/conformance.md, "Checking a client": the driver contract.',
    });
  }

  // --- the room -------------------------------------------------------------------------------

  /** Starts the kit's room on the run's transport, then the client under test. */
  async startClient(): Promise<void> {
    const room = new V1Room({
      password: this.password,
      encode: (message) => {
        const text = pythonJson(message);
        this.wire.add('kit → client', text);
        return text;
      },
    });
    this.room = room;
    this.wire.addKey(room.roomKey);
    const transport = this.parameters.transport;
    this.peer = await startPeer((connection) => this.#serve(connection), {
      listen: `${transport}://127.0.0.1:0${transport === 'ws' || transport === 'wss' ? '/ecp' : ''}`,
      ...(this.run.certificates ? { tls: this.run.certificates[this.certificate] } : {}),
    });
    const url = this.peer.url;
    const fill = (shown: boolean): string =>
      this.parameters.command
        .replaceAll('{url}', shellQuote(url))
        .replaceAll('{host}', '127.0.0.1')
        .replaceAll('{port}', String(this.peer!.port))
        .replaceAll('{username}', shellQuote(CLIENT_USERNAME))
        .replaceAll('{password}', shown ? '{password}' : shellQuote(this.clientPassword))
        .replaceAll('{ca}', shellQuote(this.run.caFile ?? ''));
    this.client = new ClientProcess(fill(false), fill(true));
    this.client.start();
  }

  #serve(connection: PeerConnection): unknown {
    connection.connection.on('message', (text) => {
      this.wire.add('client → kit', text);
      for (const wake of this.#arrivals) wake();
      if (connection.received.length > MAX_CLIENT_MESSAGES) {
        this.client?.stopFor(
          `flooded: it sent more than ${MAX_CLIENT_MESSAGES} messages in one scenario, and was stopped`,
        );
        connection.destroy();
      }
    });
    if (this.play === 'room') return this.room!.serve(connection);
    return this.#refuseTakenName(connection);
  }

  /** Answers every handshake as the prototype answers a taken name: a notice, the connection kept. */
  async #refuseTakenName(connection: PeerConnection): Promise<void> {
    for await (const message of connection.messages()) {
      if (message.type === 'handshake') {
        const text = pythonJson({ type: 'system', message: notices.usernameTaken });
        this.wire.add('kit → client', text);
        connection.sendLine(text);
      }
    }
  }

  /** The client's connection: the first the room accepted, waiting for it as long as a start may take. */
  async connection(): Promise<PeerConnection> {
    const peer = this.peer;
    if (!peer) throw new Error('the client was not started');
    if (peer.connections[0]) return peer.connections[0];
    const started = this.parameters.startTimeoutMs;
    try {
      return await Promise.race([peer.accepted(0, started), this.#exitedBeforeConnecting()]);
    } catch (error) {
      const exit = this.client?.exit;
      this.fail({
        expected: `the client connects to ${peer.url} within ${started} ms of starting`,
        actual: this.client?.fault
          ? `the client ${this.client.fault}`
          : exit
            ? `the client exited (${exit.signal ?? `status ${exit.code}`}) without connecting`
            : `no connection (${(error as Error).message}); the client is still running`,
        hint: `Check the command: ${this.client?.commandLine}; its output is attached.`,
      });
    }
  }

  #exitedBeforeConnecting(): Promise<never> {
    return new Promise((_, reject) => {
      const client = this.client!;
      const check = (): void => {
        if (client.exit && !this.peer?.connections[0]) {
          stop();
          reject(new Error('exited'));
        }
      };
      const stop = client.onChange(check);
      check();
    });
  }

  /** The client's handshake (the first; later calls return the same). */
  async handshake(): Promise<Record<string, unknown>> {
    const connection = await this.connection();
    if (this.#handshake) return this.#handshake;
    const found = await this.#untilReceived(connection, (message) => message.type === 'handshake', 0);
    if (!found) {
      this.fail({
        expected: `a handshake from the client within ${this.timeoutMs} ms of connecting`,
        actual: `${connection.isClosed ? 'the connection closed' : 'no handshake'}; received: ${describe(connection.received)}`,
      });
    }
    this.#handshake = found;
    return found;
  }

  /**
   * The `skip`+1-th message from the client that `matches`, waiting up to the timeout; undefined
   * when it does not come. The kit's room reads the same messages with its own cursor.
   */
  #untilReceived(
    connection: PeerConnection,
    matches: (message: Record<string, unknown>) => boolean,
    skip: number,
  ): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (done) return;
        const found = connection.received.filter(matches)[skip];
        if (found) finish(found);
        else if (connection.isClosed || this.client?.fault) finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      let done = false;
      const finish = (found: Record<string, unknown> | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#arrivals.delete(check);
        resolve(found);
      };
      this.#arrivals.add(check);
      void connection.whenClosed.then(check);
      check();
    });
  }

  /**
   * Joins the client and makes sure it holds the room key: bob says hello under it, and (when the
   * client's output is read) the client shows it. Without output, a short grace period stands in.
   */
  async joined(): Promise<void> {
    await this.handshake();
    await this.untilMember();
    await this.proveKeyTaken('welcome, alice');
  }

  /** Waits until the room lists the client as a member. */
  async untilMember(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (!this.room!.members.some((member) => member.name === CLIENT_USERNAME)) {
      if (Date.now() > deadline) {
        this.fail({
          expected: 'the client is admitted to the room',
          actual: `received: ${describe((await this.connection()).received)}`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * bob sends `text` under the current key; the client shows it (the proof it holds that key).
   * When the client has shown a line for every message bob sent before, the next line it shows
   * from bob is its answer to this one: one that is not `text` (undecryptable, say) fails at once
   * instead of after the timeout.
   */
  async proveKeyTaken(text: string): Promise<void> {
    const client = this.client!;
    const allShown = this.#shownFrom('bob') === (this.#chatsSentAs.get('bob') ?? 0);
    const linesBefore = client.lines.length;
    this.sendFromBob(text);
    if (!this.readsOutput) {
      await new Promise((resolve) => setTimeout(resolve, this.graceMs));
      return;
    }
    await this.shows('bob', text, true, allShown ? linesBefore : undefined);
  }

  /** How many stdout lines show a chat message from `sender`, decrypted or not. */
  #shownFrom(sender: string): number {
    return (this.client?.lines ?? []).filter(
      ({ shown }) => (shown.kind === 'chat' || shown.kind === 'undecryptable') && shown.sender === sender,
    ).length;
  }

  /** Counts a chat message the kit writes, by its sender. */
  #countChat(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { type, sender } = message as Record<string, unknown>;
    if (type === 'message' && typeof sender === 'string') {
      this.#chatsSentAs.set(sender, (this.#chatsSentAs.get(sender) ?? 0) + 1);
    }
  }

  /** A sealed payload under the room's current key (or another). */
  seal(text: string, key = this.room!.roomKey, now?: Date): string {
    const fernet = new Fernet(key);
    return now
      ? Buffer.from(fernet.encrypt(text, { now }), 'ascii').toString('base64')
      : sealText(fernet, text);
  }

  /** The kit relays a chat message from bob, sealed with the room key unless `fields` say otherwise. */
  sendFromBob(
    text: string,
    fields: Record<string, unknown> = {},
    how?: 'split' | 'no-line-feed',
  ): Promise<void> {
    const message = { type: 'message', sender: 'bob', message: this.seal(text), encrypted: true, ...fields };
    return this.sendLine(pythonJson(message), how);
  }

  /** The kit writes one line to the client: as a message, split one byte per write, or as a frame without its line feed. */
  async sendLine(text: string, how?: 'split' | 'no-line-feed'): Promise<void> {
    const connection = await this.connection();
    this.#countChat(text);
    if (how === 'split') {
      this.wire.add('kit → client', text, 'one byte per write');
      const bytes = Buffer.from(`${text}\n`);
      await connection.sendSplit(
        bytes,
        Array.from({ length: bytes.length }, (_, index) => index),
      );
    } else if (how === 'no-line-feed') {
      this.wire.add('kit → client', text, 'a frame without a line feed');
      connection.sendRaw(text);
    } else {
      this.wire.add('kit → client', text);
      connection.sendLine(text);
    }
  }

  /** The kit writes bytes as they are (not UTF-8, a character split across writes, ...). */
  async sendBytes(bytes: Buffer, cuts: number[], why: string): Promise<void> {
    const connection = await this.connection();
    this.#countChat(bytes.toString('utf8'));
    this.wire.add('kit → client', bytes.toString('latin1'), why);
    await connection.sendSplit(bytes, cuts, cuts.length > 0 ? 50 : 0);
  }

  /** A new room key for the client, mid-session. */
  rotateKey(): string {
    const key = this.room!.rotateKey();
    this.wire.addKey(key);
    return key;
  }

  // --- the user -------------------------------------------------------------------------------

  /** The user types a line (contract rule C1). */
  type(text: string): void {
    this.typed.push(text);
    this.client!.writeLine(text);
  }

  // --- what the client does -------------------------------------------------------------------

  /** The client's next chat message on the wire. */
  async nextChat(): Promise<Record<string, unknown>> {
    const connection = await this.connection();
    const found = await this.#untilReceived(
      connection,
      (message) => message.type === 'message',
      this.#chatsTaken,
    );
    if (!found) {
      this.fail({
        expected: `a chat message from the client within ${this.timeoutMs} ms of its user typing ${JSON.stringify(this.typed.at(-1))}`,
        actual: `${connection.isClosed ? 'the connection closed' : 'nothing'}${this.client?.fault ? `; the client ${this.client.fault}` : ''}; received: ${describe(connection.received)}`,
      });
    }
    this.#chatsTaken += 1;
    return found;
  }

  /**
   * Waits until the client shows a chat message from `sender` with `text` (contract rules C2, C3).
   * With `answerAfter`, the first line from `sender` after that many stdout lines is the client's
   * answer to this message: if it is another, the wait ends there.
   */
  async shows(sender: string, text: string, encrypted: boolean, answerAfter?: number): Promise<NumberedLine> {
    const what = `the client shows ${JSON.stringify(text)} from ${sender}`;
    const found = await this.#waitForLine(
      (line) => line.shown.kind === 'chat' && line.shown.sender === sender && line.shown.text === text,
      what,
      answerAfter === undefined
        ? undefined
        : (line) =>
            line.number > answerAfter &&
            (line.shown.kind === 'chat' || line.shown.kind === 'undecryptable') &&
            line.shown.sender === sender,
    );
    if (found.shown.kind === 'chat' && found.shown.encrypted !== encrypted) {
      this.fail({
        expected: `the client shows ${JSON.stringify(text)} from ${sender} with "encrypted": ${encrypted}`,
        actual: `stdout line ${found.number} says "encrypted": ${found.shown.encrypted}`,
      });
    }
    return found;
  }

  /** The contract lines broken so far, as a failure. */
  checkContract(): void {
    const broken = this.client?.lines.find((line) => line.shown.kind === 'broken');
    if (broken && broken.shown.kind === 'broken') {
      this.failContract(broken.shown.rule, `stdout line ${broken.number}: ${broken.shown.detail}`);
    }
  }

  async #waitForLine(
    matches: (line: NumberedLine) => boolean,
    what: string,
    isAnswer?: (line: NumberedLine) => boolean,
  ): Promise<NumberedLine> {
    const client = this.client!;
    let seen = 0;
    let answer: NumberedLine | undefined;
    const found = await new Promise<NumberedLine | undefined>((resolve) => {
      const check = (): void => {
        this.checkContractQuietly();
        for (; seen < client.lines.length; seen++) {
          const line = client.lines[seen]!;
          if (matches(line)) {
            finish(line);
            return;
          }
          if (isAnswer?.(line)) {
            answer = line;
            finish(undefined);
            return;
          }
        }
        if (client.exit || client.fault || this.contractBroken) finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), this.timeoutMs);
      const stop = client.onChange(check);
      const finish = (line: NumberedLine | undefined): void => {
        clearTimeout(timer);
        stop();
        resolve(line);
      };
      check();
    });
    if (found) return found;
    this.checkContract();
    if (answer) {
      const { kind, ...shown } = answer.shown;
      const instead = kind === 'undecryptable' ? { ...shown, undecryptable: true } : shown;
      this.fail({
        expected: what,
        actual: `stdout line ${answer.number} shows ${JSON.stringify(instead)}: its line for this message, since every earlier message from that sender has its own`,
      });
    }
    const shown = client.lines
      .filter((line) => line.shown.kind === 'chat' || line.shown.kind === 'undecryptable')
      .map((line) => {
        const { kind: _kind, ...shown } = line.shown;
        return JSON.stringify(shown);
      })
      .slice(-5);
    this.fail({
      expected: `${what} within ${this.timeoutMs} ms`,
      actual: client.fault
        ? `the client ${client.fault}`
        : `${client.exit ? `the client exited (${client.exit.signal ?? `status ${client.exit.code}`}); ` : ''}shown so far: ${shown.length > 0 ? shown.join(', ') : 'no chat message'}`,
    });
  }

  /** Whether a stdout line broke the contract (waits end early on it). */
  contractBroken = false;
  checkContractQuietly(): void {
    this.contractBroken = this.client?.lines.some((line) => line.shown.kind === 'broken') ?? false;
  }

  /** Waits for the client to exit, up to `timeoutMs` (at least the time it may take to end cleanly). */
  async exits(rule: ContractRule): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const client = this.client!;
    const limit = Math.max(this.timeoutMs, this.parameters.startTimeoutMs / 2);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, limit);
      const stop = client.onChange(() => client.exit && finish());
      function finish(): void {
        clearTimeout(timer);
        stop();
        resolve();
      }
      if (client.exit) finish();
    });
    if (!client.exit) {
      await client.stop();
      this.failContract(
        rule,
        `the client was still running ${limit} ms later, and was stopped with its process group`,
      );
    }
    return client.exit!;
  }

  /** Stops the client and the room, whatever state they are in. */
  async closeAll(): Promise<void> {
    await this.client?.stop();
    await this.peer?.close();
  }
}

export function describe(received: readonly Record<string, unknown>[]): string {
  if (received.length === 0) return 'nothing';
  return received
    .slice(-4)
    .map((message) => {
      const text = JSON.stringify(message);
      return text.length > 200 ? `${text.slice(0, 200)}…` : text;
    })
    .join(', ');
}
