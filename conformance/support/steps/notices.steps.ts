/**
 * What the server tells people: auth_error refusals, system notices, user lists, and the order in
 * which they come.
 */
import { type DataTable, Then } from '@cucumber/cucumber';
import { authErrors } from '../../../protocol/index.ts';
import { isNotice, jsonFieldOf, jsonTypeOf, listsUser, type ReceivedLine } from '../received-line.ts';
import type { ConformanceWorld } from '../world.ts';

function isSystem(text: string) {
  return (line: ReceivedLine) => line.message?.type === 'system' && line.message.message === text;
}

function isUserList(
  line: ReceivedLine,
): line is ReceivedLine & { message: { type: 'user_list'; users: string[] } } {
  return line.message?.type === 'user_list';
}

// --- auth_error ------------------------------------------------------------------------------

/**
 * An auth_error in answer to what the client sent: `Handshake timeout` answers nothing it sent,
 * and a server that ignored the handshake would otherwise pass once its timeout fires.
 */
function isAnswer(line: ReceivedLine): boolean {
  return line.message?.type === 'auth_error' && line.message.message !== authErrors.handshakeTimeout;
}

Then('{member} receives an auth_error', async function (this: ConformanceWorld, label: string) {
  await this.expectLine(
    label,
    isAnswer,
    `${label} receives an auth_error in answer to the handshake (not "${authErrors.handshakeTimeout}")`,
  );
});

Then(
  '{member} receives the auth_error {string}',
  async function (this: ConformanceWorld, label: string, text: string) {
    await this.expectLine(
      label,
      (line) => line.message?.type === 'auth_error' && line.message.message === text,
      `${label} receives {"type":"auth_error","message":${JSON.stringify(text)}}`,
      { timeoutMs: this.timeoutMs },
    );
  },
);

Then(
  '{member} receives an auth_error starting {string}',
  async function (this: ConformanceWorld, label: string, prefix: string) {
    await this.expectLine(
      label,
      (line) =>
        isAnswer(line) && line.message?.type === 'auth_error' && line.message.message.startsWith(prefix),
      `${label} receives an auth_error whose message begins ${JSON.stringify(prefix)}`,
    );
  },
);

Then(
  "{member} receives an auth_error naming the port's transport",
  async function (this: ConformanceWorld, label: string) {
    // tls:// or wss://: the scenario's port, whichever TLS transport the run speaks.
    const prefix = `This port speaks ECP over ${this.endpoint.transport}://`;
    await this.expectLine(
      label,
      (line) =>
        isAnswer(line) && line.message?.type === 'auth_error' && line.message.message.startsWith(prefix),
      `${label} receives an auth_error whose message begins ${JSON.stringify(prefix)}`,
    );
  },
);

// --- system notices --------------------------------------------------------------------------

Then('{member} receives a system notice', async function (this: ConformanceWorld, label: string) {
  await this.expectLine(
    label,
    (line) => line.message?.type === 'system',
    `${label} receives a system message`,
  );
});

Then(
  '{member} receives the system notice {string}',
  async function (this: ConformanceWorld, label: string, template: string) {
    const text = this.fill(template);
    await this.expectLine(
      label,
      isSystem(text),
      `${label} receives {"type":"system","message":${JSON.stringify(text)}}`,
    );
  },
);

Then(
  '{members} receive the system notice {string}',
  async function (this: ConformanceWorld, labels: string[], template: string) {
    const text = this.fill(template);
    for (const label of labels) {
      await this.expectLine(
        label,
        isSystem(text),
        `${label} receives {"type":"system","message":${JSON.stringify(text)}}`,
      );
    }
  },
);

Then(
  /^(\w+) receives no notice that (\w+) has (joined|left) the chat$/,
  async function (this: ConformanceWorld, label: string, about: string, what: string) {
    const text = `${this.memberName(about)} has ${what} the chat`;
    // Every line ever, malformed ones too: the notice is wrong whenever it came.
    await this.expectNoLine(
      label,
      (line) => isNotice(line, text),
      `${label} receives no notice ${JSON.stringify(text)}`,
      {
        all: true,
      },
    );
  },
);

Then(
  "{member}'s next messages are, in this order:",
  async function (this: ConformanceWorld, label: string, table: DataTable) {
    const rows = table
      .hashes()
      .map((row) => ({ type: row.type ?? '', message: this.fill(row.message ?? '') }));
    const client = this.client(label);
    const deadline = performance.now() + this.timeoutMs;
    const from = client.lines.length - client.unread.length;
    let lines: ReceivedLine[] = [];
    while (performance.now() < deadline) {
      lines = client.unread.filter((line) => !this.isForeign(line));
      if (lines.length >= rows.length || !client.isOpen) break;
      await client.waitForUnread(client.unread.length + 1, deadline - performance.now());
    }
    const describe = (row: { type: string; message: string }) =>
      row.message ? `${row.type} ${JSON.stringify(row.message)}` : row.type;
    const mismatch = rows.findIndex((row, index) => {
      const line = lines[index];
      if (!line?.message || line.message.type !== row.type) return true;
      return row.message !== '' && 'message' in line.message && line.message.message !== row.message;
    });
    if (mismatch !== -1) {
      this.fail({
        expected: `${label}'s next ${rows.length} messages are, in this order:\n${rows.map((row, index) => `${index + 1}. ${describe(row)}`).join('\n')}`,
        actual: `message ${mismatch + 1} differs; ${label} received:\n${
          lines
            .slice(0, rows.length + 1)
            .map((line, index) => `${index + 1}. ${this.describeLine(line)}`)
            .join('\n') || this.describeSince(client, from, this.timeoutMs)
        }`,
      });
    }
    client.consume(lines.at(rows.length - 1)!.index + 1 - from);
  },
);

// --- user lists ------------------------------------------------------------------------------

Then(
  '{member} receives a user list that includes {members}',
  async function (this: ConformanceWorld, label: string, included: string[]) {
    const names = included.map((member) => this.memberName(member));
    await this.expectLine(
      label,
      (line) => isUserList(line) && names.every((name) => line.message.users.includes(name)),
      `${label} receives a user_list that includes ${names.join(', ')}`,
    );
  },
);

Then(
  '{members} receive(s) a user list without {member}',
  async function (this: ConformanceWorld, labels: string[], gone: string) {
    const name = this.memberName(gone);
    for (const label of labels) {
      const own = this.memberName(label);
      await this.expectLine(
        label,
        (line) => isUserList(line) && !line.message.users.includes(name) && line.message.users.includes(own),
        `${label} receives a user_list without ${name} (and still with ${own})`,
      );
    }
  },
);

/** The newest user_list a member received, once the newest names everyone in `names`. */
async function latestUserList(world: ConformanceWorld, label: string, names: string[]): Promise<string[]> {
  const client = world.client(label);
  const namesAll = (line: ReceivedLine) =>
    isUserList(line) && names.every((name) => line.message.users.includes(name));
  const latest = () => client.lines.findLast(isUserList);
  const now = latest();
  if (!now || !namesAll(now)) {
    await world.expectLine(label, namesAll, `${label} receives a user_list naming ${names.join(', ')}`);
  }
  return latest()?.message.users ?? [];
}

Then(
  "{member}'s latest user list names {members} exactly once each",
  async function (this: ConformanceWorld, label: string, listed: string[]) {
    const names = listed.map((member) => this.memberName(member));
    const users = await latestUserList(this, label, names);
    const wrong = names.filter((name) => users.filter((user) => user === name).length !== 1);
    if (wrong.length > 0) {
      this.fail({
        expected: `${label}'s user_list names ${names.join(', ')} exactly once each`,
        actual: `it is ${JSON.stringify(users)}`,
      });
    }
  },
);

Then(
  "{member}'s latest user list names {members} in that order",
  async function (this: ConformanceWorld, label: string, listed: string[]) {
    const names = listed.map((member) => this.memberName(member));
    const users = await latestUserList(this, label, names);
    // Other scenarios' members may be listed too on a shared server: only ours are compared.
    const ours = users.filter((user) => names.includes(user));
    if (JSON.stringify(ours) !== JSON.stringify(names)) {
      this.fail({
        expected: `${label}'s user_list names ${names.join(', ')} in that order (join order)`,
        actual: `it is ${JSON.stringify(users)}`,
      });
    }
  },
);

Then(
  'no user list {member} received names {member}',
  async function (this: ConformanceWorld, label: string, other: string) {
    const name = this.memberName(other);
    await this.expectNoLine(
      label,
      (line) => listsUser(line, name),
      `no user_list ${label} receives names ${name}`,
      { all: true },
    );
  },
);

Then(
  'every user list {member} received names {member} exactly once',
  async function (this: ConformanceWorld, label: string, other: string) {
    const name = this.memberName(other);
    await this.expectNoLine(
      label,
      (line) => isUserList(line) && line.message.users.filter((user) => user === name).length !== 1,
      `every user_list ${label} receives names ${name} exactly once`,
      { all: true },
    );
  },
);

Then(
  '{member} receives nothing about {member}',
  async function (this: ConformanceWorld, label: string, other: string) {
    const name = this.memberName(other);
    await this.expectNoLine(
      label,
      (line) => {
        const notice = jsonFieldOf(line, 'message');
        return (
          listsUser(line, name) ||
          (jsonTypeOf(line) === 'system' && typeof notice === 'string' && notice.includes(name))
        );
      },
      `${label} receives nothing about ${name}, who never joined`,
      { all: true },
    );
  },
);
