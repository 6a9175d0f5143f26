/**
 * Connecting, joining and leaving, and whether a client is (still) a member.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import { isNotice, jsonTypeOf, listsUser, type ReceivedLine } from '../received-line.ts';
import type { ConformanceWorld } from '../world.ts';

Given('{member} is connected', async function (this: ConformanceWorld, label: string) {
  await this.connectAll([label]);
});

Given('{members} are connected', async function (this: ConformanceWorld, labels: string[]) {
  await this.connectAll(labels);
});

Given(
  '{member} is connected with a {int}-bit RSA key',
  async function (this: ConformanceWorld, label: string, bits: number) {
    await this.connect(label, await this.keys.rsaOfBits(bits));
  },
);

Given('{member} is in the room', async function (this: ConformanceWorld, label: string) {
  await this.joinAll([label]);
});

Given('{members} are in the room', async function (this: ConformanceWorld, labels: string[]) {
  await this.joinAll(labels);
});

// Joining in a When step leaves what the others receive about it unread, for the Then steps to check.
When('{member} joins', async function (this: ConformanceWorld, label: string) {
  await this.join(label);
});

When('{member} joins again', async function (this: ConformanceWorld, label: string) {
  await this.join(label);
});

When('{members} join', async function (this: ConformanceWorld, labels: string[]) {
  for (const label of labels) await this.join(label);
});

When('{member} leaves', async function (this: ConformanceWorld, label: string) {
  await this.leave(label);
});

When("{member}'s connection is closed", async function (this: ConformanceWorld, label: string) {
  await this.leave(label);
});

When(
  /^(\w+) closes (?:her|his) side of the connection$/,
  async function (this: ConformanceWorld, label: string) {
    // A half-close (FIN): the server sees the end of the stream and may still answer, then closes.
    await this.leave(label);
  },
);

When(
  '{member} and {member} ask to join with the same new name at the same time',
  async function (this: ConformanceWorld, first: string, second: string) {
    const name = this.extraName('contested');
    this.notes.contestedName = name;
    // Both lines leave in the same tick, on two connections: a server whose name check and join
    // are not one atomic step can admit both.
    this.sendHandshake(first, { username: name });
    this.sendHandshake(second, { username: name });
  },
);

When("{member}'s connection is reset", async function (this: ConformanceWorld, label: string) {
  this.reset(label);
  // A reset gets no answer to wait for: give the server a moment to notice it.
  await new Promise((resolve) => setTimeout(resolve, Math.min(100, this.graceMs)));
});

Then('{member} is admitted', async function (this: ConformanceWorld, label: string) {
  await this.expectAdmitted(label);
});

Then(
  'exactly one of {member} and {member} is admitted and the other receives a system notice',
  async function (this: ConformanceWorld, first: string, second: string) {
    const name = this.noted('contestedName');
    const clients = [first, second].map((label) => this.client(label));
    const keyExchange = (line: ReceivedLine) => line.message?.type === 'key_exchange';
    // Until one is admitted, then a moment more for a second admission that must not come.
    await Promise.race(
      clients.map((client) => client.waitUntil(() => client.lines.some(keyExchange), this.timeoutMs)),
    );
    await new Promise((resolve) => setTimeout(resolve, this.graceMs));
    const admitted = clients.filter((client) => client.lines.some(keyExchange));
    if (admitted.length !== 1) {
      this.fail({
        expected: `exactly one of ${first} and ${second}, both asking for the free name ${name} at once, is admitted`,
        actual:
          admitted.length === 0
            ? `neither was admitted (no key_exchange within ${this.timeoutMs} ms)`
            : 'both received a key_exchange: the name check and the join are not one atomic step',
        hint: 'Check that the name is free and add the member in one critical section (under the lock that guards the room).',
      });
    }
    const other = clients.find((client) => client !== admitted[0])!;
    await this.expectLine(
      other.label,
      (line) => line.message?.type === 'system',
      `${other.label}, who lost the race for ${name}, receives a system notice that the name is taken`,
    );
  },
);

Then('{member} is not admitted', async function (this: ConformanceWorld, label: string) {
  const client = this.client(label);
  const keyExchange = await client.next((line) => line.message?.type === 'key_exchange', this.graceMs);
  if (keyExchange) {
    this.fail({
      expected: `${label} is not admitted: no key_exchange`,
      actual: `${label} received ${this.describeLine(keyExchange)}`,
    });
  }
});

Then('{member} is never admitted', async function (this: ConformanceWorld, label: string) {
  const client = this.client(label);
  const name = client.requestedNames.at(-1) ?? client.username;
  const admitted = client.lines.find(
    (line) => jsonTypeOf(line) === 'key_exchange' || jsonTypeOf(line) === 'user_list',
  );
  if (admitted) {
    this.fail({
      expected: `${label} is never admitted: no key_exchange and no user_list`,
      actual: `${label} received ${this.describeLine(admitted)}`,
    });
  }
  for (const member of this.members) {
    await this.expectNoLine(
      member,
      (line) => listsUser(line, name) || isNotice(line, `${name} has joined the chat`),
      `${member} never sees ${name} join the room`,
      { all: true },
    );
  }
});

Then("the server closes {member}'s connection", async function (this: ConformanceWorld, label: string) {
  await this.expectEnd(label);
});

Then(
  "the server closes {member}'s and {member}'s connections",
  async function (this: ConformanceWorld, first: string, second: string) {
    await this.expectEnd(first);
    await this.expectEnd(second);
  },
);

Then("{member}'s connection stays open", async function (this: ConformanceWorld, label: string) {
  await this.expectStaysOpen(label);
});

Then('{member} is still in the room', async function (this: ConformanceWorld, label: string) {
  const name = this.memberName(label);
  await this.expectNoLine(
    label,
    (line) =>
      (line.message?.type === 'user_list' && !line.message.users.includes(name)) ||
      (line.message?.type === 'system' && line.message.message === `${name} has left the chat`),
    `${label} is still listed as a member`,
    { probe: `${label} is still a member: the echo of a chat message` },
  );
});
