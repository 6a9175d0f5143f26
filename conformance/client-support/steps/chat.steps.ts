/**
 * What the client sends: its user's lines, sealed with the room key, one JSON object per line.
 */
import { Then, When } from '@cucumber/cucumber';
import { Fernet } from '../../../protocol/index.ts';
import type { ClientWorld } from '../client-world.ts';
import { describe } from '../client-world.ts';
import { duplicateMember } from '../duplicate-members.ts';

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

When('the user sends {string}', function (this: ClientWorld, text: string) {
  this.type(text);
});

When("the user's input ends", function (this: ClientWorld) {
  this.client!.endInput();
});

/** The text a chat message carries under `key`, or why it does not. */
function opened(message: Record<string, unknown>, key: string): { text: string } | { problem: string } {
  if (message.encrypted !== true)
    return { problem: `"encrypted" is ${JSON.stringify(message.encrypted)}, not true` };
  const payload = message.message;
  if (typeof payload !== 'string')
    return { problem: `"message" is ${JSON.stringify(payload)}, not a string` };
  if (!STANDARD_BASE64.test(payload))
    return { problem: '"message" is not standard base64 (with + / and = padding)' };
  const token = Buffer.from(payload, 'base64').toString('latin1');
  try {
    return { text: new Fernet(key).decrypt(token).toString('utf8') };
  } catch (error) {
    return {
      problem: `"message" decodes to ${JSON.stringify(token.slice(0, 24))}…, which is not a Fernet token under the room key (${(error as Error).message})`,
    };
  }
}

async function expectSealed(world: ClientWorld, text: string, which: string): Promise<void> {
  const message = await world.nextChat();
  const result = opened(message, world.room!.roomKey);
  const expected = `{"type": "message", "encrypted": true, "message": base64(Fernet token of ${JSON.stringify(text)} under ${which})}`;
  if ('problem' in result) world.fail({ expected, actual: `${result.problem}: ${describe([message])}` });
  if (result.text !== text) world.fail({ expected, actual: `it decrypts to ${JSON.stringify(result.text)}` });
}

Then('the kit receives {string} sealed with the room key', async function (this: ClientWorld, text: string) {
  await expectSealed(this, text, 'the room key');
});

Then(
  'the kit receives {string} sealed with the new room key',
  async function (this: ClientWorld, text: string) {
    await expectSealed(this, text, 'the new room key');
  },
);

Then(
  'the kit receives {string} with "encrypted": true and the standard base64 of a Fernet token of its UTF-8 text',
  async function (this: ClientWorld, text: string) {
    await expectSealed(this, text, 'the room key');
  },
);

Then(
  'every message the client sent is one JSON object in UTF-8 on a line of its own',
  async function (this: ClientWorld) {
    const connection = await this.connection();
    for (let count = 0; count < this.typed.length; count++) await this.nextChat();
    if (connection.framingErrors.length > 0) {
      this.fail({
        expected: 'lines of UTF-8 text',
        actual: connection.framingErrors.map((error) => error.message).join('; '),
      });
    }
    const broken = connection.received.find((message) => 'notJson' in message);
    if (broken) {
      this.fail({
        expected: 'every line one JSON object (a line feed inside JSON text is written \\n)',
        actual: `a line that is not one: ${JSON.stringify(String(broken.notJson).slice(0, 200))}`,
      });
    }
  },
);

Then('no message the client sent has two members of the same name', async function (this: ClientWorld) {
  for (let count = 0; count < this.typed.length; count++) await this.nextChat();
  for (const text of this.wire.sentByClient()) {
    const name = duplicateMember(text);
    if (name !== undefined) {
      this.fail({
        expected: 'objects whose member names are all different',
        actual: `"${name}" twice in ${text.slice(0, 200)}`,
      });
    }
  }
});
