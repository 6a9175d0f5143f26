/**
 * Chat messages: sending them in every form, and checking relay, echo, sender, payload and order.
 */
import { Then, When } from '@cucumber/cucumber';
import { Fernet, sealText } from '../../../protocol/index.ts';
import { pythonStyleJson } from '../json-styles.ts';
import { carriedTextOf } from '../received-line.ts';
import type { ConformanceWorld } from '../world.ts';
import { MEMBER } from './parameter-types.ts';

// --- sending -----------------------------------------------------------------------------------

When(
  '{member} sends the chat message {string}',
  async function (this: ConformanceWorld, label: string, text: string) {
    this.sendChat(label, text);
  },
);

When(
  '{member} sends the chat messages {string}, {string} and {string} in a single write',
  // Three named parameters: cucumber checks a step function's arity against the expression.
  async function (this: ConformanceWorld, label: string, first: string, second: string, third: string) {
    const client = this.client(label);
    const texts = [first, second, third];
    const lines = texts.map((text) =>
      JSON.stringify({ type: 'message', message: client.seal(text), encrypted: true }),
    );
    client.sendBytes(
      Buffer.from(`${lines.join('\n')}\n`),
      `${lines.length} chat messages in one write: ${texts.join(', ')}`,
    );
  },
);

When(
  '{member} sends the plain text {string} one byte at a time',
  async function (this: ConformanceWorld, label: string, text: string) {
    const line = JSON.stringify({ type: 'message', message: text, encrypted: false });
    await this.client(label).sendInPieces(`${line}\n`, 1, 'sent one byte per write');
  },
);

When(
  '{member} sends the plain text {string} split inside a character, in two reads',
  async function (this: ConformanceWorld, label: string, text: string) {
    // The kit cannot see the server's reads, but it can make the split land between two of them:
    // the first write ends a chat message and then stops inside a character; the echo of that
    // message proves the server has read that write (one small write is one segment, read
    // whole), and only then does the rest of the character go out.
    const client = this.client(label);
    const line = Buffer.from(`${JSON.stringify({ type: 'message', message: text, encrypted: false })}\n`);
    const split = line.findIndex((byte) => byte >= 0xc0) + 1;
    if (split === 0) throw new Error(`"${text}" has no multi-byte character to split`);
    const marker = `before the split, from ${label}`;
    client.sendBytes(
      Buffer.concat([
        Buffer.from(`${JSON.stringify({ type: 'message', message: marker, encrypted: false })}\n`),
        line.subarray(0, split),
      ]),
      `a chat message, then the first ${split} bytes of the next line, up to the middle of a character`,
    );
    await this.expectChat(label, label, marker);
    client.sendBytes(line.subarray(split), 'the rest of the line, after the echo of the first message');
  },
);

When(
  '{member} sends the plain text {string} written as raw UTF-8',
  async function (this: ConformanceWorld, label: string, text: string) {
    this.client(label).sendLine(JSON.stringify({ type: 'message', message: text, encrypted: false }));
  },
);

When(
  new RegExp(`^(${MEMBER}) sends the plain text "([^"]*)" written with \\\\uXXXX escapes$`),
  async function (this: ConformanceWorld, label: string, text: string) {
    this.client(label).sendLine(pythonStyleJson({ type: 'message', message: text, encrypted: false }));
  },
);

When(
  '{member} sends the chat message {string} ending the line with CR LF',
  async function (this: ConformanceWorld, label: string, text: string) {
    const client = this.client(label);
    client.sendLine(JSON.stringify({ type: 'message', message: client.seal(text), encrypted: true }), '\r\n');
  },
);

When(
  '{member} sends the chat message {string} with the extra field {string}: {int}',
  async function (this: ConformanceWorld, label: string, text: string, field: string, value: number) {
    const client = this.client(label);
    client.send({ type: 'message', message: client.seal(text), encrypted: true, [field]: value });
  },
);

When(
  '{member} sends the chat message {string} claiming to be {member}',
  async function (this: ConformanceWorld, label: string, text: string, other: string) {
    const client = this.client(label);
    client.send({
      type: 'message',
      sender: this.memberName(other),
      message: client.seal(text),
      encrypted: true,
    });
  },
);

When(
  '{member} sends the chat message {string} without having joined',
  async function (this: ConformanceWorld, label: string, text: string) {
    // The way the prototype client sends before it holds a key.
    this.client(label).send({ type: 'message', message: text, encrypted: false });
  },
);

When(
  '{member} sends the payload {string} with encrypted {boolean}',
  async function (this: ConformanceWorld, label: string, payload: string, encrypted: boolean) {
    this.client(label).send({ type: 'message', message: payload, encrypted });
  },
);

When(
  '{member} sends a chat message encrypted with a key that is not the room key',
  async function (this: ConformanceWorld, label: string) {
    const payload = sealText(new Fernet(Fernet.generateKey()), 'sealed with some other key');
    this.notes.payload = payload;
    this.client(label).send({ type: 'message', message: payload, encrypted: true });
  },
);

When(
  '{member} sends {int} numbered chat messages without waiting',
  async function (this: ConformanceWorld, label: string, count: number) {
    const client = this.client(label);
    const texts = Array.from(
      { length: count },
      (_, index) => `message ${String(index + 1).padStart(4, '0')} of ${count}`,
    );
    this.notes.numberedTexts = texts;
    const lines = texts.map(
      (text) => `${JSON.stringify({ type: 'message', message: client.seal(text), encrypted: true })}\n`,
    );
    client.sendBytes(
      Buffer.from(lines.join('')),
      `${count} chat messages in one write ("${texts[0]}" … "${texts.at(-1)}")`,
    );
  },
);

When(
  '{member} sends {int} chat messages, each after the echo of the one before',
  async function (this: ConformanceWorld, label: string, count: number) {
    const client = this.client(label);
    const others = this.members.filter((member) => member !== label).map((member) => this.client(member));
    const texts: string[] = [];
    for (let index = 1; index <= count; index += 1) {
      const text = `in turn ${index} of ${count}`;
      texts.push(text);
      client.send({ type: 'message', message: client.seal(text), encrypted: true });
      await this.expectChat(label, label, text);
      for (const other of others) {
        const arrived = this.chatFrom(label, text);
        await other.waitUntil(() => other.lines.some(arrived), this.timeoutMs);
        // An empty line, which v1 servers ignore (ECP-ERR-01), acknowledges what the member has
        // received: a server that leaves Nagle's algorithm on then has no reason to hold back the
        // next relay, so arrival order shows the order the server wrote in.
        other.sendBytes(Buffer.from('\n'), 'an empty line (acknowledges what was received)');
      }
    }
    this.notes.textsInTurn = texts;
  },
);

// --- receiving ---------------------------------------------------------------------------------

Then(
  '{members} receive(s) {string} from {member}',
  async function (this: ConformanceWorld, receivers: string[], text: string, sender: string) {
    for (const receiver of receivers) await this.expectChat(receiver, sender, text);
  },
);

Then(
  /^(\w+) receives (?:her|his) own "([^"]*)" back$/,
  async function (this: ConformanceWorld, label: string, text: string) {
    await this.expectLine(
      label,
      this.chatFrom(label, text),
      `${label} receives the echo of ${JSON.stringify(text)} with sender "${this.memberName(label)}"`,
    );
  },
);

Then(
  '{member} receives {string}, {string} and {string} from {member} in that order',
  async function (this: ConformanceWorld, receiver: string, a: string, b: string, c: string, sender: string) {
    for (const text of [a, b, c]) await this.expectChat(receiver, sender, text);
  },
);

Then(
  '{member} receives the plain text {string} from {member}',
  async function (this: ConformanceWorld, receiver: string, text: string, sender: string) {
    await this.expectChat(receiver, sender, text);
  },
);

Then(
  '{member} receives the plain text {string} from {member} twice',
  async function (this: ConformanceWorld, receiver: string, text: string, sender: string) {
    await this.expectChat(receiver, sender, text);
    await this.expectChat(receiver, sender, text);
  },
);

Then(
  '{member} receives exactly the payload {string} with encrypted {boolean} from {member}',
  async function (
    this: ConformanceWorld,
    receiver: string,
    payload: string,
    encrypted: boolean,
    sender: string,
  ) {
    const name = this.memberName(sender);
    const expected = { type: 'message', sender: name, message: payload, encrypted };
    await this.expectLine(
      receiver,
      (line) =>
        line.message?.type === 'message' &&
        line.message.sender === name &&
        line.message.message === payload &&
        line.message.encrypted === encrypted,
      `${receiver} receives ${JSON.stringify(expected)}`,
    );
  },
);

Then(
  '{member} receives exactly that payload from {member}',
  async function (this: ConformanceWorld, receiver: string, sender: string) {
    const payload = this.noted('payload');
    const name = this.memberName(sender);
    await this.expectLine(
      receiver,
      (line) =>
        line.message?.type === 'message' && line.message.sender === name && line.message.message === payload,
      `${receiver} receives the payload from ${name} unchanged`,
    );
  },
);

Then(
  '{member} received each of them no later than {member} received its echo',
  async function (this: ConformanceWorld, receiver: string, sender: string) {
    const texts = this.noted('textsInTurn');
    const late: string[] = [];
    for (const text of texts) {
      const copy = await this.expectChat(receiver, sender, text);
      const echo = this.client(sender).lines.find(this.chatFrom(sender, text));
      // Judged on the kit's event-loop turns, not on which socket it happened to read first: a
      // copy written before the echo is already in the receiver's socket when the echo is read,
      // so it arrives in the same turn or an earlier one. A later turn means it was written after
      // the echo was read (the echo written first, or the copy held back, as Nagle's algorithm
      // does in a server that leaves it on).
      if (echo && echo.turn < copy.turn)
        late.push(`"${text}" (${(copy.atMs - echo.atMs).toFixed(1)} ms later)`);
    }
    if (late.length > 0) {
      this.fail({
        expected: `${receiver} receives each of ${sender}'s ${texts.length} messages no later than ${sender} receives its echo`,
        actual: `${receiver}'s copy was not yet there when ${sender}'s echo was read, for ${late.length} of ${texts.length}: ${late.slice(0, 3).join(', ')}`,
      });
    }
  },
);

Then(
  "{members} receive {member}'s {int} messages complete and in order",
  async function (this: ConformanceWorld, receivers: string[], sender: string, count: number) {
    const texts = this.noted('numberedTexts');
    const name = this.memberName(sender);
    for (const receiver of receivers) {
      const client = this.client(receiver);
      const received: string[] = [];
      // Fails only when delivery stalls for a whole timeout, however long the burst takes.
      while (received.length < count) {
        const line = await client.next(
          (item) =>
            item.message?.type === 'message' &&
            item.message.sender === name &&
            /^message \d+ of /.test(this.textOf(item) ?? ''),
          this.timeoutMs,
        );
        if (!line) break;
        received.push(this.textOf(line)!);
      }
      const firstWrong = texts.findIndex((text, index) => received[index] !== text);
      if (firstWrong !== -1) {
        const got = received[firstWrong];
        this.fail({
          expected: `${receiver} receives ${sender}'s ${count} messages complete, each once, in the order sent`,
          actual:
            got === undefined
              ? `${receiver} received ${received.length} of ${count}; nothing more within ${this.timeoutMs} ms after "${received.at(-1) ?? 'none'}"${client.isOpen ? '' : ` (then ${client.ended?.how})`}`
              : `message ${firstWrong + 1} received was "${got}" instead of "${texts[firstWrong]}"`,
        });
      }
    }
  },
);

Then(
  '{member} never receives {string}',
  async function (this: ConformanceWorld, label: string, text: string) {
    // Every line, other senders' included: a server may relay it with any sender, even none.
    await this.expectNoLine(
      label,
      (line) => carriedTextOf(line) === text,
      `${label} never receives ${JSON.stringify(text)}`,
      { all: true },
    );
  },
);

Then(
  '{member} receives nothing from {member} before her next message',
  async function (this: ConformanceWorld, receiver: string, sender: string) {
    const name = this.memberName(sender);
    const client = this.client(receiver);
    const from = client.lines.length - client.unread.length;
    await this.probe(sender);
    // Any line at all, malformed ones and any sender included: the first thing the receiver gets
    // after the bad input must be the sender's next valid message.
    const next = await client.next(() => true, this.timeoutMs);
    if (!next?.decrypted?.startsWith('probe ')) {
      this.fail({
        expected: `the next line ${receiver} receives is ${sender}'s (${name}'s) later, valid chat message`,
        actual: next
          ? `${receiver} first received ${this.describeLine(next)}`
          : this.describeSince(client, from, this.timeoutMs),
      });
    }
  },
);

Then(
  "{member}'s chat messages still come from {member}",
  async function (this: ConformanceWorld, label: string, _same: string) {
    const name = this.memberName(label);
    const { payload } = await this.probe(label);
    const echo = this.client(label).lines.findLast(
      (line) => line.message?.type === 'message' && line.message.message === payload,
    );
    if (echo?.message?.type === 'message' && echo.message.sender !== name) {
      this.fail({
        expected: `${label}'s messages keep the sender "${name}"`,
        actual: `the echo came with sender "${echo.message.sender}"`,
      });
    }
    for (const other of this.members.filter((member) => member !== label)) {
      await this.expectLine(
        other,
        (line) => line.message?.type === 'message' && line.message.message === payload,
        `${other} receives ${label}'s message`,
      );
      const copy = this.client(other).lines.findLast(
        (line) => line.message?.type === 'message' && line.message.message === payload,
      );
      if (copy?.message?.type === 'message' && copy.message.sender !== name) {
        this.fail({
          expected: `${other} receives ${label}'s message with sender "${name}"`,
          actual: `it came with sender "${copy.message.sender}"`,
        });
      }
    }
  },
);
