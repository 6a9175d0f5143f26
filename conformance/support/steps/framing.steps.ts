/**
 * How lines are framed and what every message contains, checked over all a client received.
 */
import { Then } from '@cucumber/cucumber';
import type { ConformanceWorld } from '../world.ts';

Then(
  'every line {member} received is one JSON object in UTF-8 ending with a single line feed',
  async function (this: ConformanceWorld, label: string) {
    // Wait for the leave sequence (and everything before it) to arrive.
    if (this.members.includes(label)) await this.probe(label);
    const client = this.client(label);
    const bad = client.lines.find(
      (line) =>
        !line.validUtf8 ||
        !line.terminated ||
        line.json === undefined ||
        typeof line.json !== 'object' ||
        line.json === null ||
        Array.isArray(line.json),
    );
    if (bad) {
      const why = !bad.validUtf8
        ? 'is not valid UTF-8'
        : !bad.terminated
          ? 'was not ended with a line feed'
          : bad.text.trim() === ''
            ? 'is blank (an extra line feed)'
            : bad.json === undefined
              ? 'is not JSON (a raw line feed inside the JSON text splits it)'
              : 'is JSON but not an object';
      this.fail({
        expected: `every line ${label} receives is one JSON object in UTF-8 followed by exactly one line feed`,
        actual: `line ${bad.index + 1} ${why}: ${this.describeLine(bad)}`,
      });
    }
  },
);

Then('{member} received no answer', async function (this: ConformanceWorld, label: string) {
  const client = this.client(label);
  // The server's close after ours is the exact sign that everything it sent has arrived; a server
  // that keeps a half-closed connection open is judged on what came within the timeout.
  await client.waitForEnd(this.timeoutMs);
  const answer = client.lines.find((line) => !this.isForeign(line));
  if (answer) {
    this.fail({
      expected: `the server processes nothing after ${label}'s last line feed: no answer to the fragment`,
      actual: `${label} received ${this.describeLine(answer)}`,
      hint: "When the connection ends, drop the bytes after the last line feed; Python's file iteration, Go's bufio.Scanner and Java's readLine all return that fragment as a last line.",
    });
  }
});

Then(
  'every message {member} received has a known type and the fields of that type',
  async function (this: ConformanceWorld, label: string) {
    const bad = this.client(label).lines.find((line) => line.message === undefined);
    if (bad) {
      this.fail({
        expected: `every message is one of auth_error, system, key_exchange, user_list, message, with each field of its type (section 3.1)`,
        actual: `line ${bad.index + 1}: ${bad.problem ?? 'not a v1 message'}: ${this.describeLine(bad)}`,
      });
    }
  },
);
