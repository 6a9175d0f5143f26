/**
 * Handshakes: valid ones in every encoding, and every kind of fault one at a time.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import { fullyEscapedJson, pythonStyleJson, reversedFields } from '../json-styles.ts';
import { NOT_UTF8 } from '../not-utf8.ts';
import type { ConformanceWorld } from '../world.ts';
import { MEMBER } from './parameter-types.ts';

When('{member} sends a valid handshake', async function (this: ConformanceWorld, label: string) {
  await this.handshakeFrom(label);
});

/** The fields of a handshake that is valid but for its password: the lab 1 handshake a server answers. */
function wrongPasswordFields(world: ConformanceWorld, label: string): Record<string, unknown> {
  const client = world.client(label);
  client.requestedNames.push(client.username);
  return client.handshakeFields({ server_password: `not-${world.target.password}` });
}

When(
  /^(\w+) sends (a valid handshake|a handshake with a wrong password) one byte at a time$/,
  async function (this: ConformanceWorld, label: string, which: string) {
    const client = this.client(label);
    const fields =
      which === 'a valid handshake' ? client.handshakeFields() : wrongPasswordFields(this, label);
    if (which === 'a valid handshake') {
      client.requestedNames.push(client.username);
      client.beginJoin();
    }
    await client.sendInPieces(`${JSON.stringify(fields)}\n`, 1, 'sent one byte per write');
  },
);

When(
  '{member} sends a handshake with a wrong password ending the line with CR LF',
  async function (this: ConformanceWorld, label: string) {
    this.client(label).sendLine(JSON.stringify(wrongPasswordFields(this, label)), '\r\n');
  },
);

When(
  '{member} sends a handshake with a wrong password without the line feed',
  async function (this: ConformanceWorld, label: string) {
    this.client(label).sendLine(JSON.stringify(wrongPasswordFields(this, label)), '');
  },
);

When(
  '{member} sends an object of the unknown type {string} and a handshake with a wrong password in a single write',
  async function (this: ConformanceWorld, label: string, type: string) {
    const lines = [
      JSON.stringify({ type, message: 'ignore me' }),
      JSON.stringify(wrongPasswordFields(this, label)),
    ];
    this.client(label).sendBytes(
      Buffer.from(`${lines.join('\n')}\n`),
      `two lines in one write: an object of type "${type}", then a handshake with a wrong password`,
    );
  },
);

When(
  '{member} sends a handshake with a wrong password that is not valid UTF-8',
  async function (this: ConformanceWorld, label: string) {
    // A server that decodes leniently (Go's encoding/json, errors="replace") would answer it.
    const [before, after] = JSON.stringify(wrongPasswordFields(this, label)).split('"username":"');
    this.client(label).sendBytes(
      Buffer.concat([Buffer.from(`${before}"username":"`), Buffer.from(NOT_UTF8), Buffer.from(`${after}\n`)]),
      'a handshake with a wrong password whose username holds the bytes C3 28 FF (not UTF-8)',
    );
  },
);

When(
  '{member} sends a handshake with a wrong password that is not valid UTF-8, and the same handshake without those bytes',
  async function (this: ConformanceWorld, label: string) {
    // One write, so that a server that answers the first line and closes has read both already.
    const line = JSON.stringify(wrongPasswordFields(this, label));
    const [before, after] = line.split('"username":"');
    this.client(label).sendBytes(
      Buffer.concat([
        Buffer.from(`${before}"username":"`),
        Buffer.from(NOT_UTF8),
        Buffer.from(`${after}\n${line}\n`),
      ]),
      'two lines in one write: a handshake with a wrong password whose username holds the bytes C3 28 FF (not UTF-8), then the same handshake without them',
    );
  },
);

When(
  '{member} sends a handshake with a wrong password whose type field is spelled Type',
  async function (this: ConformanceWorld, label: string) {
    // JSON names are case-sensitive; Go's encoding/json matches struct fields case-insensitively.
    const { type, ...rest } = wrongPasswordFields(this, label);
    this.client(label).send({ Type: type, ...rest });
  },
);

When(
  '{member} sends a handshake whose field names are capitalised',
  async function (this: ConformanceWorld, label: string) {
    const client = this.client(label);
    client.requestedNames.push(client.username);
    const fields = client.handshakeFields();
    client.send({
      type: 'handshake',
      Username: fields.username,
      Server_Password: fields.server_password,
      Public_Key: fields.public_key,
    });
  },
);

const ENCODINGS: Record<string, (fields: Record<string, unknown>) => string> = {
  compactly: (fields) => JSON.stringify(fields),
  "with Python's separators": pythonStyleJson,
  'with the fields in reverse order': (fields) => JSON.stringify(reversedFields(fields)),
  'with every character escaped as \\uXXXX': fullyEscapedJson,
};

When(
  new RegExp(`^(${MEMBER}) sends (a valid handshake|a handshake with a wrong password) written (.+)$`),
  async function (this: ConformanceWorld, label: string, which: string, style: string) {
    const encode = ENCODINGS[style];
    if (!encode)
      throw new Error(`unknown JSON style '${style}'; known: ${Object.keys(ENCODINGS).join('; ')}`);
    const client = this.client(label);
    if (which === 'a valid handshake') {
      client.requestedNames.push(client.username);
      client.beginJoin();
      client.sendLine(encode(client.handshakeFields()));
    } else {
      client.sendLine(encode(wrongPasswordFields(this, label)));
    }
  },
);

When(
  '{member} sends a valid handshake with the extra field {string}: {string}',
  async function (this: ConformanceWorld, label: string, field: string, value: string) {
    await this.handshakeFrom(label, { [field]: value });
  },
);

When(
  '{member} sends a valid handshake with a 32-character name of spaces, letters and emoji',
  async function (this: ConformanceWorld, label: string) {
    // Unique per scenario, so a shared server never sees it twice; padded to 32 code points.
    const start = `😀 ${this.nameOf(label)} `;
    const name = start + '🎉'.repeat(32 - [...start].length);
    await this.handshakeFrom(label, { username: name });
  },
);

When(
  '{member} sends another valid handshake with the name {string}',
  async function (this: ConformanceWorld, label: string, word: string) {
    const client = this.client(label);
    // Not recorded as a requested name: the member must keep its first one.
    client.send(client.handshakeFields({ username: this.extraName(word) }));
  },
);

When(
  '{member} sends a handshake with a wrong password',
  async function (this: ConformanceWorld, label: string) {
    await this.handshakeFrom(label, { server_password: `not-${this.target.password}` });
  },
);

When(
  '{member} sends a handshake with a distinctive wrong password',
  async function (this: ConformanceWorld, label: string) {
    const password = `wrong-${this.random.text(10)}`;
    this.notes.wrongPassword = password;
    await this.handshakeFrom(label, { server_password: password });
  },
);

const WRONG_PASSWORDS: Record<string, (right: string) => string | undefined> = {
  'that is empty': () => '',
  'that is the right one in upper case': (right) =>
    right.toUpperCase() !== right
      ? right.toUpperCase()
      : right.toLowerCase() !== right
        ? right.toLowerCase()
        : undefined,
  'that is the right one with a trailing space': (right) => `${right} `,
  'that is the right one without its last character': (right) => right.slice(0, -1),
  'that is the right one with an extra character': (right) => `${right}x`,
  // Python's hmac.compare_digest raises on a str that is not ASCII: compare bytes.
  'that is the right one with a non-ASCII character': (right) => `${right}é`,
};

When(
  new RegExp(`^(${MEMBER}) sends a handshake with the password (.+)$`),
  async function (this: ConformanceWorld, label: string, which: string) {
    const make = WRONG_PASSWORDS[which];
    if (!make) throw new Error(`unknown wrong password '${which}'`);
    const password = make(this.target.password);
    // A password without letters has no other case: nothing to check then.
    if (password === undefined) return 'skipped';
    await this.handshakeFrom(label, { server_password: password });
  },
);

const BAD_USERNAMES: Record<string, (world: ConformanceWorld) => string> = {
  'an empty username': () => '',
  'a username one character over the limit': (world) => 'u'.repeat(world.limits.maxUsernameLength + 1),
  'a username containing a line feed': (world) => `bad\n${world.extraName('name')}`,
  'a username containing an escape character': (world) => `bad\u001b[31m${world.extraName('name')}`,
  'a username containing a delete character': (world) => `bad\u007f${world.extraName('name')}`,
};

When(
  new RegExp(`^(${MEMBER}) sends a handshake with (an empty username|a username .+)$`),
  async function (this: ConformanceWorld, label: string, which: string) {
    const make = BAD_USERNAMES[which];
    if (!make) throw new Error(`unknown bad username '${which}'`);
    await this.handshakeFrom(label, { username: make(this) });
  },
);

const BAD_KEYS: Record<string, (world: ConformanceWorld) => string> = {
  'a PEM block that holds no key': (world) => world.keys.malformedPem,
  'an EC P-256 public key': (world) => world.keys.ecPublicKeyPem,
  'a public key that is not PEM at all': () => 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ this is not PEM',
  'a 1024-bit RSA public key': (world) => world.keys.weakRsa.publicKeyPem,
};

When(
  new RegExp(`^(${MEMBER}) sends a handshake with (a PEM block .+|an EC .+|a public key .+|a 1024-bit .+)$`),
  async function (this: ConformanceWorld, label: string, which: string) {
    const make = BAD_KEYS[which];
    if (!make) throw new Error(`unknown bad key '${which}'`);
    await this.handshakeFrom(label, { public_key: make(this) });
  },
);

const WRONG_TYPES: Record<string, unknown> = { 'a number': 42, null: null, 'a list': ['a', 'list'] };

// Two steps, not one regular expression with alternatives: a group that takes no part in the
// match leaves cucumber's reports an argument with no place in the text ("field field field").
When(
  new RegExp(`^(${MEMBER}) sends a handshake without the (\\w+) field$`),
  async function (this: ConformanceWorld, label: string, missing: string) {
    await this.handshakeFrom(label, { [missing]: undefined });
  },
);

When(
  new RegExp(`^(${MEMBER}) sends a handshake whose (\\w+) is (a number|null|a list)$`),
  async function (this: ConformanceWorld, label: string, field: string, wrongType: string) {
    await this.handshakeFrom(label, { [field]: WRONG_TYPES[wrongType] });
  },
);

When(
  "{member} asks to join with {member}'s name",
  async function (this: ConformanceWorld, label: string, other: string) {
    await this.handshakeFrom(label, { username: this.memberName(other) });
  },
);

When(
  "{member} asks to join with {member}'s name in upper case",
  async function (this: ConformanceWorld, label: string, other: string) {
    await this.handshakeFrom(label, { username: this.memberName(other).toUpperCase() });
  },
);

Given(
  "{member} was told that {member}'s name is taken",
  async function (this: ConformanceWorld, label: string, other: string) {
    await this.handshakeFrom(label, { username: this.memberName(other) });
    await this.expectLine(
      label,
      (line) => line.message?.type === 'system',
      `${label}, asking for ${other}'s name, receives a system notice that it is taken`,
      { hint: "A handshake with a current member's name gets a system notice and stays open (ECP-AUTH-03)." },
    );
  },
);

Then('{member} receives a key_exchange', async function (this: ConformanceWorld, label: string) {
  await this.expectLine(
    label,
    (line) => line.message?.type === 'key_exchange',
    `${label} receives a key_exchange`,
  );
});
