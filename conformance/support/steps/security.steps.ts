/**
 * What must never happen: material meant for members reaching others, a password repeated back.
 */
import { Then } from '@cucumber/cucumber';
import { jsonTypeOf, type ReceivedLine } from '../received-line.ts';
import type { ConformanceWorld } from '../world.ts';

const MEMBERS_ONLY = new Set(['key_exchange', 'user_list', 'message']);

function isMembersOnly(line: ReceivedLine): boolean {
  const type = (line.json as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' && MEMBERS_ONLY.has(type);
}

Then(
  /^(\w+(?: and \w+)?) received no key_exchange, user list or chat message$/,
  async function (this: ConformanceWorld, list: string) {
    for (const label of list.split(' and ')) {
      await flushUnadmitted(this, label);
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

/**
 * Makes sure everything the server wrote to a connection that was never admitted has arrived, by
 * what the kit observes exactly rather than a pause: the connection's end, when the server closed
 * it; otherwise a handshake with a wrong password, whose auth_error (ECP-AUTH-02) and close come
 * after anything written to that connection before. Without either (a server that never answers
 * a wrong password, which other scenarios fail), it falls back to waiting the grace period.
 */
async function flushUnadmitted(world: ConformanceWorld, label: string): Promise<void> {
  const client = world.client(label);
  if (!client.isOpen) return;
  const refusals = () => client.lines.filter((line) => jsonTypeOf(line) === 'auth_error').length;
  const before = refusals();
  client.send(client.handshakeFields({ server_password: `not-${world.target.password}` }));
  const answered = await client.waitUntil(() => !client.isOpen || refusals() > before, world.timeoutMs);
  if (!answered) {
    world.log(`${label} got no answer to a wrong password; waited ${world.graceMs} ms instead`);
    await new Promise((resolve) => setTimeout(resolve, world.graceMs));
  }
}

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
