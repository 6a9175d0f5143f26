/**
 * What must never happen: material meant for members reaching others, a password repeated back.
 */
import { Then } from '@cucumber/cucumber';
import type { ReceivedLine } from '../received-line.ts';
import type { ConformanceWorld } from '../world.ts';

const MEMBERS_ONLY = new Set(['key_exchange', 'user_list', 'message']);

function isMembersOnly(line: ReceivedLine): boolean {
  const type = (line.json as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' && MEMBERS_ONLY.has(type);
}

Then(
  /^(\w+(?: and \w+)?) received no key_exchange, user list or chat message$/,
  async function (this: ConformanceWorld, list: string) {
    // Whatever was sent to members has reached them (an earlier step saw it); give the rest a moment.
    await new Promise((resolve) => setTimeout(resolve, this.graceMs));
    for (const label of list.split(' and ')) {
      const leaked = this.client(label).lines.find(isMembersOnly);
      if (leaked) {
        this.fail({
          expected: `${label}, never admitted, receives no key_exchange, user_list or chat message`,
          actual: `${label} received ${this.describeLine(leaked)}`,
        });
      }
    }
  },
);

Then('no line the server sent contains that password', async function (this: ConformanceWorld) {
  const password = this.noted('wrongPassword');
  for (const client of this.allClients()) {
    const echoed = client.lines.find((line) => line.text.includes(password));
    if (echoed) {
      this.fail({
        expected: 'the wrong password never appears in anything the server sends',
        actual: `${client.label} received a line containing it: ${this.describeLine(echoed)}`,
      });
    }
  }
});

Then("the server's output does not contain that password", async function (this: ConformanceWorld) {
  if (this.target.kind === 'running') {
    this.log('Not checked: the kit cannot see the output of a server it did not start (use --spawn).');
    return;
  }
  // A spawned server's output arrives through a pipe: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, this.graceMs));
  const password = this.noted('wrongPassword');
  const output = this.target.serverOutput();
  const at = output.indexOf(password);
  if (at !== -1) {
    const lineStart = output.lastIndexOf('\n', at) + 1;
    const lineEnd = output.indexOf('\n', at);
    this.fail({
      expected: 'the server never writes a received password to its output or logs',
      actual: `it did: ${output.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).slice(0, 300)}`,
    });
  }
});
