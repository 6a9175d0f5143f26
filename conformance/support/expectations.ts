/**
 * What a scenario expects of the server, each a wait with a deadline that fails through the
 * scenario's `fail()`: a line, a closed or open connection, an admission, silence. Other scenarios'
 * traffic on a shared server is left out of every check.
 */
import type { FailureDetails } from './failure.ts';
import { describeLine, describeSince } from './received-descriptions.ts';
import { chatTextOf, type LineMatch, type ReceivedLine } from './received-line.ts';
import type { WireClient } from './wire-client.ts';

export interface ExpectOptions {
  timeoutMs?: number;
  hint?: string;
}

/** A chat message a member sent to prove it is still served, and what it received before the echo. */
export interface Probe {
  /** The payload as sent (sealed when the member holds the room key). */
  payload: string;
  /** The lines before the echo, other scenarios' traffic left out. */
  before: ReceivedLine[];
}

/** What the expectations need of the scenario (the World provides it). */
export interface ExpectationsHost {
  readonly timeoutMs: number;
  /** How long to watch for something that must NOT happen. */
  readonly graceMs: number;
  /** Labels of the members, in join order. */
  readonly members: readonly string[];
  client(label: string): WireClient;
  memberName(label: string): string;
  isForeign(line: ReceivedLine): boolean;
  fail(details: FailureDetails): never;
}

const ADMISSION_HINT = 'A valid handshake must be answered with key_exchange and user_list (ECP-HS-02).';

export class Expectations {
  #probes = 0;
  /**
   * Connections not admitted that were sent input the server must ignore, from which line on:
   * they cannot send a chat message to prove the server quiet, so the next line expected of
   * them (the answer to a later handshake) is that proof, and nothing may come before it.
   */
  readonly #silences = new Map<string, number>();

  constructor(private readonly host: ExpectationsHost) {}

  /** Waits for the first unread line of `label` that matches, consuming the lines up to it. */
  async line(
    label: string,
    match: LineMatch,
    expected: string,
    options: ExpectOptions = {},
  ): Promise<ReceivedLine> {
    const client = this.host.client(label);
    const timeoutMs = options.timeoutMs ?? this.host.timeoutMs;
    const from = client.lines.length - client.unread.length;
    const line = await client.next(match, timeoutMs);
    if (line) {
      this.#checkSilence(label, line);
      return line;
    }
    const details: FailureDetails = {
      expected: `${expected} (within ${Math.round(timeoutMs)} ms)`,
      actual: this.#describeSince(client, from, timeoutMs),
    };
    if (options.hint) details.hint = options.hint;
    this.host.fail(details);
  }

  /**
   * Waits for the key_exchange and a user_list naming the client. A precondition for most
   * scenarios, so its failure says plainly that joining failed.
   */
  async admitted(label: string): Promise<void> {
    const { host } = this;
    const client = host.client(label);
    const name = client.requestedNames.at(-1) ?? client.username;
    // One timeout for the whole admission: a server that never answers costs it once.
    const deadline = performance.now() + host.timeoutMs;
    const left = () => Math.max(0, deadline - performance.now());
    // The protocol's join state machine decides first; a refusal is said in the server's words.
    await client.waitUntil(() => client.join !== undefined && client.join.state !== 'pending', left());
    const refusal = client.join?.refusal;
    if (refusal !== undefined && refusal.reason !== 'key_unusable') {
      host.fail({
        expected: `${label} is admitted in answer to its handshake`,
        actual: `${label} was refused: ${refusal.reason === 'auth_error' ? 'auth_error' : 'system'} ${JSON.stringify(refusal.serverMessage)}`,
        hint: ADMISSION_HINT,
      });
    }
    await this.line(
      label,
      (line) => line.message?.type === 'key_exchange',
      `${label} is admitted: a key_exchange in answer to the handshake`,
      { hint: ADMISSION_HINT, timeoutMs: left() },
    );
    await this.line(
      label,
      (line) => line.message?.type === 'user_list' && line.message.users.includes(name),
      `${label} is admitted: a user_list that includes ${name}`,
      { hint: ADMISSION_HINT, timeoutMs: left() },
    );
    if (!client.roomKey) {
      host.fail({
        expected: `the key_exchange sent to ${label} decrypts with ${label}'s private key`,
        actual: `it does not: ${client.roomKeyProblem ?? 'no key_exchange could be read'}`,
        hint: 'encrypted_key = base64(RSA-OAEP-SHA256(client public key, the 44-character Fernet key text)) (ECP-KX-03).',
      });
    }
  }

  /**
   * Brings every member's unread position past the joins so far: the user_list naming every
   * member of the scenario, and the join notice right after it when the server sends one.
   */
  async settle(): Promise<void> {
    const { host } = this;
    const names = host.members.map((label) => host.memberName(label));
    const newest = names.at(-1);
    const namesEveryone = (line: ReceivedLine) =>
      line.message?.type === 'user_list' &&
      names.every((name) => line.message?.type === 'user_list' && line.message.users.includes(name));
    for (const label of host.members) {
      const client = host.client(label);
      // The newest member's own user_list was already read when it was admitted.
      const seen = client.lines.findLast(namesEveryone);
      const latest = seen ? client.readPast(seen) : await client.next(namesEveryone, host.timeoutMs);
      if (!latest) {
        host.fail({
          expected: `${label} receives a user_list naming every member of the scenario (${names.join(', ')})`,
          actual: this.#describeSince(client, client.lines.length - client.unread.length, host.timeoutMs),
          hint: 'Send the updated user_list to every member whenever someone is admitted (ECP-HS-04).',
        });
      }
      if (newest && label !== host.members.at(-1)) {
        const notice = `${newest} has joined the chat`;
        const following = await client.waitForUnread(1, 50);
        if (following[0]?.message?.type === 'system' && following[0].message.message === notice)
          client.consume(1);
      }
    }
  }

  /** Expects the server to close the connection of `label`. */
  async end(
    label: string,
    expected = `the server closes ${label}'s connection`,
    hint?: string,
  ): Promise<void> {
    const { host } = this;
    const client = host.client(label);
    if (await client.waitForEnd(host.timeoutMs)) return;
    const details: FailureDetails = {
      expected: `${expected} (within ${host.timeoutMs} ms)`,
      actual: `the connection is still open after ${host.timeoutMs} ms (last line from ${label}: ${describeLine(client.lastLine)})`,
    };
    if (hint) details.hint = hint;
    host.fail(details);
  }

  /** Expects the connection of `label` to be open after a short grace period. */
  async staysOpen(label: string): Promise<void> {
    const client = this.host.client(label);
    if (await client.waitForEnd(this.host.graceMs)) {
      this.host.fail({
        expected: `${label}'s connection stays open`,
        actual: `${client.ended?.how ?? 'it ended'} at ${client.ended?.atMs.toFixed(0)} ms (last line from ${label}: ${describeLine(client.lastLine)})`,
      });
    }
  }

  /**
   * Sends a chat message from a member and waits for its echo: what the member received before the
   * echo is returned (without other scenarios' traffic), and consumed. Proves that the server is
   * still serving the member and shows whatever it sent in between.
   */
  async probe(label: string, expected?: string): Promise<Probe> {
    const client = this.host.client(label);
    const text = `probe ${++this.#probes} from ${label}`;
    const payload = client.roomKey ? client.seal(text) : text;
    client.send({ type: 'message', message: payload, encrypted: client.roomKey !== undefined });
    const from = client.lines.length - client.unread.length;
    const echo = await client.next(
      (line) => line.message?.type === 'message' && line.message.message === payload,
      this.host.timeoutMs,
    );
    if (!echo) {
      this.host.fail({
        expected:
          expected ??
          `${label} is still served: the echo of a chat message "${text}" that ${label} sent afterwards`,
        actual: this.#describeSince(client, from, this.host.timeoutMs),
      });
    }
    return {
      payload,
      before: client.lines.slice(from, echo.index).filter((line) => !this.host.isForeign(line)),
    };
  }

  /**
   * After input the server must ignore: the connection stays open and the server sends nothing
   * back, which the echo of a later chat message proves for members (nothing came before it).
   */
  async nothingSentBack(label: string): Promise<void> {
    const { host } = this;
    const client = host.client(label);
    const from = client.lines.length - client.unread.length;
    const answered = host.members.includes(label)
      ? (await this.probe(label)).before[0]
      : (await client.waitForUnread(1, host.graceMs)).find((line) => !host.isForeign(line));
    if (answered) {
      host.fail({
        expected: `the server ignores the input: nothing is sent back to ${label}`,
        actual: `${label} received ${describeLine(answered)}`,
      });
    }
    if (!client.isOpen) {
      host.fail({
        expected: `the server ignores the input and keeps ${label}'s connection open`,
        actual: this.#describeSince(client, from, host.graceMs),
      });
    }
    if (!host.members.includes(label)) this.#silences.set(label, from);
  }

  /** Whatever arrived before the answer to a later input, after input to ignore, was an answer to it. */
  #checkSilence(label: string, answer: ReceivedLine): void {
    const from = this.#silences.get(label);
    if (from === undefined) return;
    this.#silences.delete(label);
    const client = this.host.client(label);
    const early = client.lines.slice(from, answer.index).find((line) => !this.host.isForeign(line));
    if (early) {
      this.host.fail({
        expected: `the server ignores the input: nothing is sent back to ${label}`,
        actual: `${label} received ${describeLine(early)}, before ${describeLine(answer)}`,
      });
    }
  }

  /**
   * Fails if `label` received a line that matches. A chat message `label` sends, and its echo,
   * prove first that everything the server sent before it has arrived. Only what arrived since the
   * last check counts (other scenarios' traffic left out), or with `all` every line of the connection.
   */
  async noLine(
    label: string,
    match: LineMatch,
    expected: string,
    options: { all?: boolean; probe?: string } = {},
  ): Promise<void> {
    const recent = (await this.probe(label, options.probe)).before;
    const found = (options.all ? this.host.client(label).lines : recent).find(match);
    if (found) this.host.fail({ expected, actual: `${label} received ${describeLine(found)}` });
  }

  /** Matches a chat message from `sender` carrying `text`. */
  chatFrom(sender: string, text: string): LineMatch {
    const name = this.host.memberName(sender);
    return (line) =>
      line.message?.type === 'message' && line.message.sender === name && chatTextOf(line) === text;
  }

  async chat(receiver: string, sender: string, text: string): Promise<ReceivedLine> {
    return this.line(
      receiver,
      this.chatFrom(sender, text),
      `${receiver} receives {"type":"message","sender":"${this.host.memberName(sender)}",...} carrying ${JSON.stringify(text)}`,
    );
  }

  #describeSince(client: WireClient, from: number, waitedMs: number): string {
    return describeSince(client, from, waitedMs, (line) => this.host.isForeign(line));
  }
}
