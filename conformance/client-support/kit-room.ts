/**
 * The kit's side of a client scenario: a scripted peer on the run's transport that plays a v1 room
 * as the prototype's server does (or answers every handshake as it answers a taken name), the
 * client's connection and what the client sent on it, and every line the kit writes to it. Each
 * line either way goes into the wire log.
 */
import { notices } from '../../protocol/index.ts';
import type { TransportName } from '../../transport/index.ts';
import { type PeerConnection, pythonJson, type ScriptedPeer, startPeer, V1Room } from '../peer/index.ts';
import type { ClientScenario } from './client-scenario.ts';

/** The name the client joins with; the room is the scenario's own, so it needs no uniqueness. */
export const CLIENT_USERNAME = 'alice';
/** No scenario asks for more than a few messages: more than this is a flood. */
const MAX_CLIENT_MESSAGES = 1000;

/** What the room does with the client's handshake. */
export type RoomPlay = 'room' | 'name-taken';

export class KitRoom {
  readonly room: V1Room;
  peer: ScriptedPeer | undefined;
  readonly #scenario: ClientScenario;
  #handshake: Record<string, unknown> | undefined;
  /** Chat messages from the client already taken by a step. */
  #chatsTaken = 0;
  /** Woken on every message from the client (the room reads the same messages on its own). */
  readonly #arrivals = new Set<() => void>();
  /** How many chat messages the kit wrote to the client, by sender (whatever their payload). */
  readonly #chatsSentAs = new Map<string, number>();

  constructor(scenario: ClientScenario, password: string) {
    this.#scenario = scenario;
    this.room = new V1Room({
      password,
      encode: (message) => {
        const text = pythonJson(message);
        scenario.wire.add('kit → client', text);
        return text;
      },
    });
    scenario.wire.addKey(this.room.roomKey);
  }

  /** Listens on a free port of 127.0.0.1 (the path /ecp over WebSocket); returns the peer. */
  async listen(
    transport: TransportName,
    play: RoomPlay,
    tls: { cert: string; key: string } | undefined,
  ): Promise<ScriptedPeer> {
    this.peer = await startPeer((connection) => this.#serve(connection, play), {
      listen: `${transport}://127.0.0.1:0${transport === 'ws' || transport === 'wss' ? '/ecp' : ''}`,
      ...(tls ? { tls } : {}),
    });
    return this.peer;
  }

  #serve(connection: PeerConnection, play: RoomPlay): unknown {
    connection.connection.on('message', (text) => {
      this.#scenario.wire.add('client → kit', text);
      for (const wake of this.#arrivals) wake();
      if (connection.received.length > MAX_CLIENT_MESSAGES) {
        this.#scenario.client?.stopFor(
          `flooded: it sent more than ${MAX_CLIENT_MESSAGES} messages in one scenario, and was stopped`,
        );
        connection.destroy();
      }
    });
    if (play === 'room') return this.room.serve(connection);
    return this.#refuseTakenName(connection);
  }

  /** Answers every handshake as the prototype answers a taken name: a notice, the connection kept. */
  async #refuseTakenName(connection: PeerConnection): Promise<void> {
    for await (const message of connection.messages()) {
      if (message.type === 'handshake') {
        const text = pythonJson({ type: 'system', message: notices.usernameTaken });
        this.#scenario.wire.add('kit → client', text);
        connection.sendLine(text);
      }
    }
  }

  /** The client's connection: the first the room accepted, waiting for it as long as a start may take. */
  async connection(): Promise<PeerConnection> {
    const { peer } = this;
    const scenario = this.#scenario;
    if (!peer) throw new Error('the client was not started');
    if (peer.connections[0]) return peer.connections[0];
    const started = scenario.startTimeoutMs;
    try {
      return await Promise.race([peer.accepted(0, started), this.#exitedBeforeConnecting()]);
    } catch (error) {
      const exit = scenario.client?.exit;
      this.#scenario.fail({
        expected: `the client connects to ${peer.url} within ${started} ms of starting`,
        actual: scenario.client?.fault
          ? `the client ${scenario.client.fault}`
          : exit
            ? `the client exited (${exit.signal ?? `status ${exit.code}`}) without connecting`
            : `no connection (${(error as Error).message}); the client is still running`,
        hint: `Check the command: ${scenario.client?.commandLine}; its output is attached.`,
      });
    }
  }

  #exitedBeforeConnecting(): Promise<never> {
    return new Promise((_, reject) => {
      const client = this.#scenario.client!;
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
      this.#scenario.fail({
        expected: `a handshake from the client within ${this.#scenario.timeoutMs} ms of connecting`,
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
        else if (connection.isClosed || this.#scenario.client?.fault) finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), this.#scenario.timeoutMs);
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

  /** Waits until the room lists the client as a member. */
  async untilMember(): Promise<void> {
    const deadline = Date.now() + this.#scenario.timeoutMs;
    while (!this.room.members.some((member) => member.name === CLIENT_USERNAME)) {
      if (Date.now() > deadline) {
        this.#scenario.fail({
          expected: 'the client is admitted to the room',
          actual: `received: ${describe((await this.connection()).received)}`,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The client's next chat message on the wire. */
  async nextChat(): Promise<Record<string, unknown>> {
    const connection = await this.connection();
    const found = await this.#untilReceived(
      connection,
      (message) => message.type === 'message',
      this.#chatsTaken,
    );
    if (!found) {
      const { client, timeoutMs, typed } = this.#scenario;
      this.#scenario.fail({
        expected: `a chat message from the client within ${timeoutMs} ms of its user typing ${JSON.stringify(typed.at(-1))}`,
        actual: `${connection.isClosed ? 'the connection closed' : 'nothing'}${client?.fault ? `; the client ${client.fault}` : ''}; received: ${describe(connection.received)}`,
      });
    }
    this.#chatsTaken += 1;
    return found;
  }

  /** The kit writes one line to the client: as a message, split one byte per write, or as a frame without its line feed. */
  async sendLine(text: string, how?: 'split' | 'no-line-feed'): Promise<void> {
    const connection = await this.connection();
    const { wire } = this.#scenario;
    this.#countChat(text);
    if (how === 'split') {
      wire.add('kit → client', text, 'one byte per write');
      const bytes = Buffer.from(`${text}\n`);
      await connection.sendSplit(
        bytes,
        Array.from({ length: bytes.length }, (_, index) => index),
      );
    } else if (how === 'no-line-feed') {
      wire.add('kit → client', text, 'a frame without a line feed');
      connection.sendRaw(text);
    } else {
      wire.add('kit → client', text);
      connection.sendLine(text);
    }
  }

  /** The kit writes bytes as they are (not UTF-8, a character split across writes, ...). */
  async sendBytes(bytes: Buffer, cuts: number[], why: string): Promise<void> {
    const connection = await this.connection();
    this.#countChat(bytes.toString('utf8'));
    this.#scenario.wire.add('kit → client', bytes.toString('latin1'), why);
    await connection.sendSplit(bytes, cuts, cuts.length > 0 ? 50 : 0);
  }

  /** How many chat messages the kit wrote as `sender`. */
  chatsSentAs(sender: string): number {
    return this.#chatsSentAs.get(sender) ?? 0;
  }

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
      this.#chatsSentAs.set(sender, this.chatsSentAs(sender) + 1);
    }
  }

  /** A new room key for the client, mid-session. */
  rotateKey(): string {
    const key = this.room.rotateKey();
    this.#scenario.wire.addKey(key);
    return key;
  }

  async close(): Promise<void> {
    await this.peer?.close();
  }
}

/** The last few messages, abbreviated, for a failure message. */
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
