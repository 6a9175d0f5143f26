/**
 * Input a server cannot use: lines that are not messages, objects of no known type, malformed chat
 * messages. A v1 server ignores each of them, sends nothing back and keeps serving everyone.
 */
import { randomBytes } from 'node:crypto';
import { Then, When } from '@cucumber/cucumber';
import { jsonTypeOf, listsUser } from '../received-line.ts';
import type { ConformanceWorld } from '../world.ts';
import { MEMBER } from './parameter-types.ts';

/**
 * Random bytes that end with a line feed, so the garbage cannot run into the next line. Every line
 * in it starts with 0xFF, which never occurs in UTF-8: by chance a short line could otherwise be
 * valid JSON (a digit between two line feeds), which v1 servers may answer differently.
 */
function garbage(kib: number): Buffer {
  const bytes = randomBytes(kib * 1024);
  bytes[0] = 0xff;
  for (let index = 1; index < bytes.length; index++) if (bytes[index - 1] === 0x0a) bytes[index] = 0xff;
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
  // 0xC3 starts a two-byte sequence that 0x28 does not continue; 0xFF never occurs in UTF-8.
  'a line that is not valid UTF-8': () =>
    Buffer.concat([
      Buffer.from('{"type": "message", "message": "'),
      Buffer.from([0xc3, 0x28, 0xff]),
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
    this.client(label).sendBytes(garbage(kib), `${kib} KiB of random bytes, the last one a line feed`);
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
