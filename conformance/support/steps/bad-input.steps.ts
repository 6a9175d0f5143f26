/**
 * Input a server cannot use: lines that are not messages, objects of no known type, malformed chat
 * messages. A v1 server ignores each of them, sends nothing back and keeps serving everyone.
 */
import { Then, When } from '@cucumber/cucumber';
import { NOT_UTF8, NOT_UTF8_DROPPED } from '../not-utf8.ts';
import { jsonTypeOf, listsUser, type ReceivedLine } from '../received-line.ts';
import type { ConformanceWorld } from '../world.ts';
import { MEMBER } from './parameter-types.ts';

/**
 * Random bytes (from the run's seed) that end with a line feed, so the garbage cannot run into the
 * next line. Every line starts with 0xFF, which never occurs in UTF-8, then `#`: by chance a short
 * line could otherwise be valid JSON (a digit between two line feeds), once or after a server drops
 * the bytes that are not UTF-8 (ECP-ERR-01 allows that), and v1 servers answer such JSON differently.
 */
function garbage(bytes: Buffer): Buffer {
  const lineStart = [0xff, 0x23];
  for (let index = 0; index < bytes.length - 1; index++) {
    if (index === 0 || bytes[index - 1] === 0x0a) {
      bytes.set(lineStart.slice(0, bytes.length - 1 - index), index);
      index += lineStart.length - 1;
    }
  }
  bytes[bytes.length - 1] = 0x0a;
  return bytes;
}

/** What each named input is on the wire, line feed included. */
const UNUSABLE_INPUT: Record<string, () => Buffer> = {
  'an empty line': () => Buffer.from('\n'),
  'a line of spaces': () => Buffer.from('     \t  \n'),
  'a line that is not JSON': () => Buffer.from('hello, server {not json\n'),
  'the JSON array []': () => Buffer.from('[]\n'),
  'the JSON string "hello"': () => Buffer.from('"hello"\n'),
  'the JSON number 42': () => Buffer.from('42\n'),
  'the JSON null': () => Buffer.from('null\n'),
  'a line that is not valid UTF-8': () =>
    Buffer.concat([
      Buffer.from('{"type": "message", "message": "'),
      Buffer.from(NOT_UTF8),
      Buffer.from('", "encrypted": false}\n'),
    ]),
  'an object without a type': () => Buffer.from('{"message": "no type", "encrypted": false}\n'),
  'an object whose type is 42': () =>
    Buffer.from('{"type": 42, "message": "numeric type", "encrypted": false}\n'),
};

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

When(
  new RegExp(`^(${MEMBER}) sends (${Object.keys(UNUSABLE_INPUT).map(escapeRegExp).join('|')})$`),
  async function (this: ConformanceWorld, label: string, input: string) {
    this.client(label).sendBytes(UNUSABLE_INPUT[input]!(), input);
  },
);

When(
  '{member} sends {int} KiB of random bytes',
  async function (this: ConformanceWorld, label: string, kib: number) {
    this.client(label).sendBytes(
      garbage(this.random.next(kib * 1024)),
      `${kib} KiB of random bytes (seed ${this.parameters.seed}), the last one a line feed`,
    );
  },
);

When(
  /^(\w+) sends an object of the (?:unknown|server) type "([^"]*)"$/,
  async function (this: ConformanceWorld, label: string, type: string) {
    // Shaped like a real message of that type, so only the type can be the reason to ignore it.
    const fields: Record<string, Record<string, unknown>> = {
      system: { message: 'I am the server now' },
      auth_error: { message: 'Invalid server password' },
      user_list: { users: ['nobody'] },
    };
    this.client(label).send({ type, message: 'ignore me', encrypted: false, ...fields[type] });
  },
);

const CHAT_FAULTS: Record<string, (payload: string) => Record<string, unknown>> = {
  'without the message field': () => ({ type: 'message', encrypted: true }),
  'without the encrypted field': (payload) => ({ type: 'message', message: payload }),
  'whose message is a number': () => ({ type: 'message', message: 42, encrypted: false }),
  'whose encrypted is the string "yes"': (payload) => ({
    type: 'message',
    message: payload,
    encrypted: 'yes',
  }),
  // JSON names are case-sensitive; Go's encoding/json matches struct fields case-insensitively.
  'whose type field is spelled Type': (payload) => ({ Type: 'message', message: payload, encrypted: true }),
};

When(
  new RegExp(`^(${MEMBER}) sends a chat message (without the \\w+ field|whose .+)$`),
  async function (this: ConformanceWorld, label: string, fault: string) {
    const make = CHAT_FAULTS[fault];
    if (!make) throw new Error(`unknown chat message fault '${fault}'`);
    const client = this.client(label);
    client.send(make(client.seal(`malformed: ${fault}`)));
  },
);

Then(
  "{member}'s connection stays open and nothing was sent back",
  async function (this: ConformanceWorld, label: string) {
    await this.expectNothingSentBack(label);
  },
);

Then(
  /^(\w+) and (\w+) receive nothing from it, or (\w+)'s chat message without those bytes$/,
  async function (this: ConformanceWorld, first: string, second: string, sender: string) {
    // ECP-ERR-01 allows both readings of a line holding bytes that are not UTF-8: ignored whole,
    // or read as if those bytes had never been sent (as the original does). Either way, the same
    // for everyone: nothing, or the chat without them, before the sender's next message.
    const name = this.memberName(sender);
    const { payload, before: sendersOwn } = await this.probe(sender);
    const seen: string[] = [];
    for (const label of [first, second]) {
      let before = sendersOwn;
      if (label !== sender) {
        const client = this.client(label);
        const from = client.lines.length - client.unread.length;
        const next = await client.next(
          (line) => line.message?.type === 'message' && line.message.message === payload,
          this.timeoutMs,
        );
        if (!next) {
          this.fail({
            expected: `${label} receives ${sender}'s next message`,
            actual: this.describeSince(client, from, this.timeoutMs),
          });
        }
        before = client.lines.slice(from, next.index).filter((line) => !this.isForeign(line));
      }
      const dropped = (line: ReceivedLine) =>
        line.message?.type === 'message' &&
        line.message.sender === name &&
        line.message.message === NOT_UTF8_DROPPED &&
        line.message.encrypted === false;
      const wrong = before.find((line) => !dropped(line)) ?? (before.length > 1 ? before[1] : undefined);
      if (wrong) {
        this.fail({
          expected: `${label} receives nothing for the line, or ${name}'s chat message ${JSON.stringify(NOT_UTF8_DROPPED)} without the bytes that are not UTF-8, before ${sender}'s next message`,
          actual: `${label} received ${this.describeLine(wrong)}`,
        });
      }
      seen.push(before.length === 0 ? 'nothing' : 'the chat without those bytes');
    }
    if (seen[0] !== seen[1]) {
      this.fail({
        expected: 'the line is read the same way for every member: ignored for all, or relayed to all',
        actual: `${first} received ${seen[0]}, ${second} ${seen[1]}`,
      });
    }
  },
);

Then('the room still works for {members}', async function (this: ConformanceWorld, labels: string[]) {
  await this.expectRoomWorks(labels);
});

Then('{member} receives no second key_exchange', async function (this: ConformanceWorld, label: string) {
  const first = this.client(label).lines.find((line) => jsonTypeOf(line) === 'key_exchange');
  await this.expectNoLine(
    label,
    (line) => jsonTypeOf(line) === 'key_exchange' && line !== first,
    `${label} receives no key_exchange after the one that admitted ${label}`,
  );
});

Then(
  '{member} receives no user list that names {string}',
  async function (this: ConformanceWorld, label: string, word: string) {
    const name = this.extraName(word);
    await this.expectNoLine(
      label,
      (line) => listsUser(line, name),
      `no user_list ${label} receives names ${name}`,
      { all: true },
    );
  },
);
