/**
 * What the client shows: bob's messages as the kit relays them (sealed, tampered, under another
 * key, in the clear, odd in their framing), read from the client's standard output.
 */
import { Then, When } from '@cucumber/cucumber';
import { Fernet } from '../../../protocol/index.ts';
import { pythonJson } from '../../peer/index.ts';
import type { ClientWorld } from '../client-world.ts';

When('bob sends {string} sealed with the room key', async function (this: ClientWorld, text: string) {
  this.genuineFromBob.add(text);
  await this.sendFromBob(text);
});

When(
  'bob sends {string} sealed with the room key in {int}',
  async function (this: ClientWorld, text: string, year: number) {
    this.genuineFromBob.add(text);
    await this.sendFromBob(text, {
      message: this.seal(text, this.room!.roomKey, new Date(Date.UTC(year, 0, 1))),
    });
  },
);

When(
  'bob sends {string} sealed with the room key, one byte of the token changed',
  async function (this: ClientWorld, text: string) {
    const token = Buffer.from(new Fernet(this.room!.roomKey).encrypt(text), 'base64url');
    // A byte of the ciphertext: the HMAC no longer matches.
    token[30] = token[30]! ^ 0x01;
    const tampered = `${token.toString('base64url')}${'='.repeat((4 - (token.toString('base64url').length % 4)) % 4)}`;
    await this.sendFromBob(text, { message: Buffer.from(tampered, 'ascii').toString('base64') });
  },
);

When('bob sends {string} sealed with another key', async function (this: ClientWorld, text: string) {
  await this.sendFromBob(text, { message: this.seal(text, Fernet.generateKey()) });
});

When('bob sends {string} in the clear', async function (this: ClientWorld, text: string) {
  this.genuineFromBob.add(text);
  await this.sendFromBob(text, { message: text, encrypted: false });
});

When(
  'bob sends {string} sealed with the room key, with fields the client does not know',
  async function (this: ClientWorld, text: string) {
    this.genuineFromBob.add(text);
    await this.sendFromBob(text, { colour: 'blue', reply_to: 7, meta: { edited: false, tags: ['x'] } });
  },
);

When(
  'bob sends {string} sealed with the room key, one byte per write',
  async function (this: ClientWorld, text: string) {
    this.genuineFromBob.add(text);
    await this.sendFromBob(text, {}, 'split');
  },
);

When(
  'bob sends {string} sealed with the room key, in a frame without a line feed',
  async function (this: ClientWorld, text: string) {
    this.genuineFromBob.add(text);
    await this.sendFromBob(text, {}, 'no-line-feed');
  },
);

/** The longest text whose relayed line stays within 1 MiB (the v1 line limit, ECP-LIM-01). */
const LONG_LINE_BYTES = 1024 * 1024 - 64;

When(
  'bob sends a text long enough for a line of nearly 1 MiB, sealed with the room key',
  async function (this: ClientWorld) {
    // Sealing grows the text by about 16/9 (Fernet, then base64 twice): start there and trim.
    let length = Math.floor((LONG_LINE_BYTES * 9) / 16);
    const lineFor = (text: string) =>
      pythonJson({ type: 'message', sender: 'bob', message: this.seal(text), encrypted: true });
    let text = 'x'.repeat(length);
    let line = lineFor(text);
    while (Buffer.byteLength(line) > LONG_LINE_BYTES) {
      length -= 64;
      text = 'x'.repeat(length);
      line = lineFor(text);
    }
    this.longText = text;
    this.genuineFromBob.add(text);
    await this.sendLine(line);
  },
);

Then("the client shows bob's long text, encrypted", async function (this: ClientWorld) {
  if (!this.readsOutput) return 'skipped';
  await this.shows('bob', this.longText!, true);
  return undefined;
});

Then(
  'the client shows {string} from {word}, encrypted',
  async function (this: ClientWorld, text: string, sender: string) {
    if (!this.readsOutput) return 'skipped';
    await this.shows(sender, text, true);
    return undefined;
  },
);

Then(
  'the client shows {string} from {word}, marked as not encrypted',
  async function (this: ClientWorld, text: string, sender: string) {
    if (!this.readsOutput) return 'skipped';
    await this.shows(sender, text, false);
    return undefined;
  },
);

Then('the client showed nothing else as a text from bob', function (this: ClientWorld) {
  if (!this.readsOutput) return 'skipped';
  this.checkContract();
  const allowed = this.genuineFromBob;
  const forged = this.client!.lines.find(
    (line) => line.shown.kind === 'chat' && line.shown.sender === 'bob' && !allowed.has(line.shown.text),
  );
  if (forged && forged.shown.kind === 'chat') {
    this.fail({
      expected:
        'a payload that fails to decrypt is not shown, or shown as undecryptable (never as text from bob)',
      actual: `stdout line ${forged.number} shows ${JSON.stringify(forged.shown.text)} from bob`,
    });
  }
  return undefined;
});
