/**
 * The limits a server puts on one peer (docs/protocol.md section 12): line length, handshake
 * timeout, pending output of a reader that stopped, number of connections. Each step uses the
 * limits the target declared (`--limits`), or the specification's defaults.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import { notices } from '../../../protocol/index.ts';
import { JUDGEABLE_SLOW_READER_TIMEOUT_MS } from '../../judgeable-timeout.ts';
import { BURST_LIMIT_MULTIPLE } from '../room-load.ts';
import type { ConformanceWorld } from '../world.ts';

/** The label of the client that connects beyond the connection limit. */
const OVER_LIMIT = 'over-limit';
/** Opening more connections than this would be a load test, not a conformance check. */
const MAX_CONNECTIONS_CHECKED = 2000;

/** A plain-text chat message line of exactly `bytes` bytes (without its line feed). */
function chatLineOfLength(bytes: number): { line: string; payload: string } {
  const empty = JSON.stringify({ type: 'message', message: '', encrypted: false });
  const payload = 'x'.repeat(Math.max(0, bytes - empty.length));
  return { line: JSON.stringify({ type: 'message', message: payload, encrypted: false }), payload };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

// --- line length -------------------------------------------------------------------------------

When(
  '{member} sends a line one byte longer than the line limit',
  async function (this: ConformanceWorld, label: string) {
    const limit = this.limits.maxLineBytes;
    const { line } = chatLineOfLength(limit + 1);
    this.client(label).sendBytes(
      Buffer.from(`${line}\n`),
      `a chat message line of ${limit + 1} bytes (limit + 1)`,
    );
  },
);

// Two steps, not one with an optional group: a group that takes no part in the match leaves
// cucumber's reports an argument with no place in the text, and they print the step text again.
function sendLineOfLimit(world: ConformanceWorld, label: string, ending: '\n' | '\r\n'): void {
  const limit = world.limits.maxLineBytes;
  const { line, payload } = chatLineOfLength(limit);
  world.notes.payload = payload;
  world
    .client(label)
    .sendBytes(
      Buffer.from(`${line}${ending}`),
      `a chat message line of exactly ${limit} bytes${ending === '\r\n' ? ', then CR LF' : ''}`,
    );
}

When(
  '{member} sends a chat message exactly as long as the line limit',
  async function (this: ConformanceWorld, label: string) {
    sendLineOfLimit(this, label, '\n');
  },
);

When(
  '{member} sends a chat message exactly as long as the line limit, ending the line with CR LF',
  async function (this: ConformanceWorld, label: string) {
    sendLineOfLimit(this, label, '\r\n');
  },
);

Then(
  '{member} receives the line-too-long notice with the line limit',
  async function (this: ConformanceWorld, label: string) {
    const text = notices.lineTooLong(this.limits.maxLineBytes);
    await this.expectLine(
      label,
      (line) => line.message?.type === 'system' && line.message.message === text,
      `${label} receives {"type":"system","message":${JSON.stringify(text)}}`,
    );
  },
);

// --- handshake timeout -------------------------------------------------------------------------

When(
  '{member} sends nothing for the handshake timeout',
  async function (this: ConformanceWorld, label: string) {
    const client = this.client(label);
    const elapsed = performance.now() - this.startedAt - client.connectedAtMs;
    client.log.event(`waiting out the handshake timeout (${this.limits.handshakeTimeoutMs} ms)`);
    // A little past the timeout, so a member that is (wrongly) timed out has been by the next step.
    await sleep(this.limits.handshakeTimeoutMs - elapsed + this.graceMs);
  },
);

// --- readers that stop reading -------------------------------------------------------------------

When('{member} stops reading', async function (this: ConformanceWorld, label: string) {
  this.client(label).pauseReading();
});

When(
  '{member} floods the room with more than the pending-output limit',
  async function (this: ConformanceWorld, label: string) {
    this.notes.flood = await this.flood(label);
  },
);

When(
  '{member} reads at a steady {int} MB\\/s',
  async function (this: ConformanceWorld, label: string, megabytes: number) {
    this.client(label).readAtRate(megabytes * 1e6);
  },
);

When(
  '{member} sends a burst of several times the pending-output limit as fast as the connection takes it',
  async function (this: ConformanceWorld, label: string) {
    this.notes.burst = await this.burst(label);
  },
);

Then(
  "{members} receive(s) every message of {member}'s burst, in order",
  async function (this: ConformanceWorld, receivers: string[], sender: string) {
    const burst = this.noted('burst');
    const limit = this.limits.maxPendingOutputBytes;
    const size = `${burst.count} messages, ${(burst.bytes / 1048576).toFixed(1)} MiB, over ${BURST_LIMIT_MULTIPLE} times the pending-output limit of ${limit} bytes`;
    const expected = `${receivers.join(', ')} receive all of ${sender}'s burst (${size}) in order, none of them disconnected, each message within ${this.timeoutMs + this.limits.slowReaderTimeoutMs} ms of the one before`;
    const short = receivers.filter((label) => (burst.received.get(label) ?? 0) < burst.count);
    if (burst.outOfOrder !== undefined) this.fail({ expected, actual: `out of order: ${burst.outOfOrder}` });
    if (short.length === 0) {
      this.log(`The kit's longest stall during the burst: ${burst.kitStallMs} ms.`);
      return;
    }
    const who = short.map((label) => `${label} ${burst.received.get(label) ?? 0}`).join(', ');
    const cut = short.filter((label) => burst.disconnected.includes(label) || !this.client(label).isOpen);
    // A member is cut rightly once its output has not drained for the slow-reader timeout; if the
    // kit itself read nothing for half of that (a busy machine), its members did not "keep
    // reading", and the scenario cannot judge the server this time.
    if (cut.length > 0 && burst.kitStallMs * 2 >= this.limits.slowReaderTimeoutMs) {
      this.log(
        `Not judged: the kit itself read nothing for ${burst.kitStallMs} ms (its event loop stalled on a busy machine), at least half the server's slow-reader timeout of ${this.limits.slowReaderTimeoutMs} ms, and the server then disconnected ${cut.join(' and ')} (received: ${who} of ${burst.count}). Run it again on a quieter machine, or with a slow-reader timeout of at least ${JUDGEABLE_SLOW_READER_TIMEOUT_MS} ms.`,
      );
      return 'skipped';
    }
    this.fail({
      expected,
      actual:
        cut.length > 0
          ? `the server disconnected ${cut.join(' and ')} (received: ${who} of ${burst.count}), while the kit's longest stall was ${burst.kitStallMs} ms`
          : `received: ${who} of ${burst.count}; ${burst.stalled?.label ?? short[0]} received nothing more within ${this.timeoutMs + this.limits.slowReaderTimeoutMs} ms`,
      hint: 'A member that keeps reading is never a slow reader: stop reading from the sender while the output its messages made has not drained (backpressure), instead of disconnecting whoever holds the most unsent output at some instant.',
    });
  },
);

Then(
  "{member} receives every one of {member}'s messages promptly",
  async function (this: ConformanceWorld, receiver: string, sender: string) {
    const flood = this.noted('flood');
    const received = flood.received.get(receiver) ?? 0;
    const stalled = flood.stalled;
    if (stalled !== undefined || received !== flood.count) {
      const who = stalled?.label ?? receiver;
      if (flood.outOfOrder === undefined && flood.kitStallMs >= this.timeoutMs) {
        this.log(
          `Not judged: the kit itself read nothing for ${flood.kitStallMs} ms (its event loop stalled on a busy machine), as long as the timeout of ${this.timeoutMs} ms. Run it again on a quieter machine.`,
        );
        return 'skipped';
      }
      this.fail({
        expected: `${receiver} receives all of ${sender}'s messages in order, each batch within ${this.timeoutMs + this.limits.slowReaderTimeoutMs} ms (the timeout plus the slow-reader timeout), while a member does not read`,
        actual:
          flood.outOfOrder !== undefined
            ? `out of order: ${flood.outOfOrder}`
            : `${who} had received ${stalled?.received ?? received} of the ${stalled?.expected ?? flood.count} messages sent (${(flood.bytes / 1048576).toFixed(1)} MiB so far) and nothing more within ${this.timeoutMs + this.limits.slowReaderTimeoutMs} ms`,
      });
    }
  },
);

// --- connection limit ----------------------------------------------------------------------------

Given('as many connections as the connection limit allows are open', async function (this: ConformanceWorld) {
  const limit = this.limits.maxConnections;
  if (limit > MAX_CONNECTIONS_CHECKED) {
    this.log(
      `Not checked: the connection limit is ${limit}. Declare a smaller one the server runs with, e.g. --limits maxConnections=100.`,
    );
    return 'skipped';
  }
  // The next scenario gets a fresh server where the kit can start one: none of these linger.
  this.restartServerBeforeNextScenario();
  await this.holdConnections(limit);
});

When('one more client connects and sends a valid handshake', async function (this: ConformanceWorld) {
  await this.connect(OVER_LIMIT);
  this.sendHandshake(OVER_LIMIT);
});

Then(
  'the connection over the limit receives the auth_error {string}',
  async function (this: ConformanceWorld, text: string) {
    await this.expectLine(
      OVER_LIMIT,
      (line) => line.message?.type === 'auth_error' && line.message.message === text,
      `the connection beyond the limit of ${this.limits.maxConnections} receives {"type":"auth_error","message":${JSON.stringify(text)}}`,
    );
  },
);

Then('the server closes the connection over the limit', async function (this: ConformanceWorld) {
  await this.expectEnd(OVER_LIMIT);
});
