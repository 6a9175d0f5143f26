/**
 * Odd input from the room, new keys, the end of the session, and the driver contract's exits.
 */
import { Then, When } from '@cucumber/cucumber';
import type { ClientWorld } from '../client-world.ts';

When('the kit sends the client the line {string}', async function (this: ClientWorld, line: string) {
  await this.sendLine(line);
});

When('the kit sends the client a blank line', async function (this: ClientWorld) {
  await this.sendLine('');
});

When('the kit sends the client a line that is not UTF-8', async function (this: ClientWorld) {
  const bytes = Buffer.concat([
    Buffer.from('{"type": "system", "message": "caf'),
    Buffer.from([0xe9, 0xff]),
    Buffer.from('"}\n'),
  ]);
  await this.sendBytes(bytes, [], 'bytes that are not UTF-8');
});

When(
  'bjørn sends {string} sealed with the room key, the ø split across two reads',
  async function (this: ClientWorld, text: string) {
    const line = `${JSON.stringify({ type: 'message', sender: 'bjørn', message: this.seal(text), encrypted: true })}\n`;
    const bytes = Buffer.from(line);
    // Between the two bytes of ø (0xC3 0xB8), with a pause so that they arrive in two reads.
    const cut = bytes.indexOf(Buffer.from('ø')) + 1;
    await this.sendBytes(bytes, [cut], 'the ø split across two writes, 50 ms apart');
  },
);

When('the room sends the client a new room key', async function (this: ClientWorld) {
  this.rotateKey();
  // bob speaks under it, and the client shows it: only then has the client surely taken the key.
  await this.proveKeyTaken('under the new key');
});

When('the room closes the connection abruptly', async function (this: ClientWorld) {
  (await this.connection()).reset();
});

Then('the client is still connected', async function (this: ClientWorld) {
  const connection = await this.connection();
  if (connection.isClosed || this.client?.exit) {
    this.fail({
      expected: 'the client ignores what it cannot use and stays in the room',
      actual: connection.isClosed
        ? 'the connection is closed'
        : `the client exited (status ${this.client?.exit?.code})`,
    });
  }
});

Then('the client exits', async function (this: ClientWorld) {
  if (!this.readsOutput) return 'skipped';
  await this.exits('C6');
  this.checkContract();
  return undefined;
});

Then('the client ends the session', async function (this: ClientWorld) {
  if (!this.readsOutput) return 'skipped';
  await this.exits('C7');
  return undefined;
});
