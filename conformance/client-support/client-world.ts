/**
 * The World of one client scenario: the kit plays the room (kit-room.ts: a scripted peer on the
 * chosen transport, playing a v1 room as the prototype's server does) and drives the client under
 * test through the driver contract (client-output.ts reads what it shows and how it ends). Every
 * check fails through `fail()`, naming the requirement, what was expected and what happened; the
 * After hook attaches the wire transcript and the client's own output.
 */
import { randomBytes } from 'node:crypto';
import { type IWorldOptions, World } from '@cucumber/cucumber';
import { Fernet, sealText } from '../../protocol/index.ts';
import { shellQuote } from '../../server-under-test/index.ts';
import { type PeerConnection, pythonJson, type ScriptedPeer, type V1Room } from '../peer/index.ts';
import { requirementIdsOf } from '../requirements.ts';
import { ConformanceFailure, type FailureDetails, formatFailure } from '../support/failure.ts';
import { ClientOutput } from './client-output.ts';
import type { ClientWorldParameters } from './client-parameters.ts';
import { ClientProcess, type NumberedLine, type ProcessExit } from './client-process.ts';
import { type ClientRunContext, clientRunContext } from './client-run-context.ts';
import type { ClientScenario } from './client-scenario.ts';
import { CONTRACT_RULES, type ContractRule } from './driver-contract.ts';
import { CLIENT_USERNAME, KitRoom, type RoomPlay } from './kit-room.ts';
import { WireLog } from './wire-log.ts';

export { CLIENT_USERNAME, describe, type RoomPlay } from './kit-room.ts';

/** Which certificate the room presents over TLS. */
export type RoomCertificate = 'matching' | 'other-host' | 'untrusted';

export class ClientWorld extends World<ClientWorldParameters> implements ClientScenario {
  requirementIds: string[] = [];
  readonly wire = new WireLog();
  /** The room's password; the client is given `clientPassword`. */
  password = `pw-${randomBytes(6).toString('hex')}`;
  clientPassword = this.password;
  certificate: RoomCertificate = 'matching';
  play: RoomPlay = 'room';
  client: ClientProcess | undefined;
  /** The text of a scenario's long line, for the step that checks it. */
  longText: string | undefined;
  /** Texts bob sent under a key the client holds: the only ones the client may show as his. */
  readonly genuineFromBob = new Set<string>(['welcome, alice']);
  /** Texts the user gave the client, in order. */
  readonly typed: string[] = [];
  #kit: KitRoom | undefined;
  readonly #output = new ClientOutput(this);

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

  get startTimeoutMs(): number {
    return this.parameters.startTimeoutMs;
  }

  /** Whether the client writes what it shows (the whole driver contract) or is judged at the wire. */
  get readsOutput(): boolean {
    return this.parameters.output === 'json';
  }

  /** How long to watch for something that must NOT happen, when nothing better proves it. */
  get graceMs(): number {
    return Math.min(300, this.timeoutMs);
  }

  fail(details: FailureDetails): never {
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

  get #room(): KitRoom {
    if (!this.#kit) throw new Error('the client was not started');
    return this.#kit;
  }

  get room(): V1Room | undefined {
    return this.#kit?.room;
  }

  get peer(): ScriptedPeer | undefined {
    return this.#kit?.peer;
  }

  /** Starts the kit's room on the run's transport, then the client under test. */
  async startClient(): Promise<void> {
    const kit = new KitRoom(this, this.password);
    this.#kit = kit;
    const certificates = this.run.certificates;
    const peer = await kit.listen(this.parameters.transport, this.play, certificates?.[this.certificate]);
    const fill = (shown: boolean): string =>
      this.parameters.command
        .replaceAll('{url}', shellQuote(peer.url))
        .replaceAll('{host}', '127.0.0.1')
        .replaceAll('{port}', String(peer.port))
        .replaceAll('{username}', shellQuote(CLIENT_USERNAME))
        .replaceAll('{password}', shown ? '{password}' : shellQuote(this.clientPassword))
        .replaceAll('{ca}', shellQuote(this.run.caFile ?? ''));
    this.client = new ClientProcess(fill(false), fill(true));
    this.client.start();
  }

  /** The client's connection: the first the room accepted, waiting for it as long as a start may take. */
  connection(): Promise<PeerConnection> {
    return this.#room.connection();
  }

  /** The client's handshake (the first; later calls return the same). */
  handshake(): Promise<Record<string, unknown>> {
    return this.#room.handshake();
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
  untilMember(): Promise<void> {
    return this.#room.untilMember();
  }

  /**
   * bob sends `text` under the current key; the client shows it (the proof it holds that key).
   * When the client has shown a line for every message bob sent before, the next line it shows
   * from bob is its answer to this one: one that is not `text` (undecryptable, say) fails at once
   * instead of after the timeout.
   */
  async proveKeyTaken(text: string): Promise<void> {
    const allShown = this.#output.shownFrom('bob') === this.#room.chatsSentAs('bob');
    const linesBefore = this.client!.lines.length;
    await this.sendFromBob(text);
    if (!this.readsOutput) {
      await new Promise((resolve) => setTimeout(resolve, this.graceMs));
      return;
    }
    await this.#output.shows('bob', text, true, allShown ? linesBefore : undefined);
  }

  /** A sealed payload under the room's current key (or another). */
  seal(text: string, key = this.#room.room.roomKey, now?: Date): string {
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
  sendLine(text: string, how?: 'split' | 'no-line-feed'): Promise<void> {
    return this.#room.sendLine(text, how);
  }

  /** The kit writes bytes as they are (not UTF-8, a character split across writes, ...). */
  sendBytes(bytes: Buffer, cuts: number[], why: string): Promise<void> {
    return this.#room.sendBytes(bytes, cuts, why);
  }

  /** A new room key for the client, mid-session. */
  rotateKey(): string {
    return this.#room.rotateKey();
  }

  // --- the user -------------------------------------------------------------------------------

  /** The user types a line (contract rule C1). */
  type(text: string): void {
    this.typed.push(text);
    this.client!.writeLine(text);
  }

  // --- what the client does -------------------------------------------------------------------

  /** The client's next chat message on the wire. */
  nextChat(): Promise<Record<string, unknown>> {
    return this.#room.nextChat();
  }

  /** Waits until the client shows a chat message from `sender` with `text` (contract rules C2, C3). */
  shows(sender: string, text: string, encrypted: boolean): Promise<NumberedLine> {
    return this.#output.shows(sender, text, encrypted);
  }

  /** The contract lines broken so far, as a failure. */
  checkContract(): void {
    this.#output.checkContract();
  }

  /** Waits for the client to exit, up to `timeoutMs` (at least the time it may take to end cleanly). */
  exits(rule: ContractRule): Promise<ProcessExit> {
    return this.#output.exits(rule);
  }

  /** Stops the client and the room, whatever state they are in. */
  async closeAll(): Promise<void> {
    await this.client?.stop();
    await this.#kit?.close();
  }
}
