/**
 * What belongs to one transport (docs/protocol.md section 14): the WebSocket mapping (text frames,
 * the ecp.v1 subprotocol, close codes, the upgrade path) and TLS (versions, a plain client on the
 * TLS port). Scenarios using these steps carry @websocket or @tls and are skipped elsewhere.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import { connect, formatEndpoint, TransportError, tlsVersionAccepted } from '../../../transport/index.ts';
import type { ConformanceWorld } from '../world.ts';

/** A plain-text chat message of exactly `bytes` bytes of JSON. */
function chatOfLength(bytes: number): string {
  const empty = JSON.stringify({ type: 'message', message: '', encrypted: false });
  return JSON.stringify({
    type: 'message',
    message: 'x'.repeat(Math.max(0, bytes - empty.length)),
    encrypted: false,
  });
}

// --- connecting --------------------------------------------------------------------------------

Given(
  '{member} connects without offering a subprotocol',
  async function (this: ConformanceWorld, label: string) {
    await this.connect(label, undefined, { subprotocols: [] });
  },
);

Given(
  '{member} connects to the same port without TLS',
  async function (this: ConformanceWorld, label: string) {
    await this.connect(label, undefined, {
      endpoint: { ...this.endpoint, transport: 'tcp', path: '' },
    });
  },
);

Then(
  "{member}'s connection uses the subprotocol {string}",
  async function (this: ConformanceWorld, label: string, subprotocol: string) {
    const selected = this.client(label).subprotocol;
    if (selected !== subprotocol) {
      this.fail({
        expected: `the server selects the subprotocol ${subprotocol} that ${label} offered`,
        actual: selected ? `it selected ${selected}` : 'it selected no subprotocol',
        hint: `Answer Sec-WebSocket-Protocol: ${subprotocol} when the client offers it (ECP-TR-07).`,
      });
    }
  },
);

/** Tries an upgrade that must be refused; returns what the client saw. */
async function refusedUpgrade(
  world: ConformanceWorld,
  how: { path?: string; subprotocols?: string[] },
): Promise<string | undefined> {
  const endpoint = { ...world.endpoint, ...(how.path === undefined ? {} : { path: how.path }) };
  try {
    const connection = await connect(endpoint, {
      ...world.target.connectOptions,
      timeoutMs: world.timeoutMs,
      ...(how.subprotocols === undefined ? {} : { subprotocols: how.subprotocols }),
    });
    connection.destroy();
    return undefined;
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    return error.message;
  }
}

Then(
  'an upgrade on another path is refused with HTTP status {int}',
  async function (this: ConformanceWorld, status: number) {
    const path = `${this.endpoint.path.replace(/\/$/, '')}/not-ecp`;
    const seen = await refusedUpgrade(this, { path });
    if (seen === undefined || !seen.includes(`HTTP ${status}`)) {
      this.fail({
        expected: `an upgrade on ${path} is refused with HTTP ${status}`,
        actual: seen ?? 'the upgrade succeeded',
        hint: `Accept upgrades only on the server's ECP path (${this.endpoint.path}); answer others with 404 (ECP-TR-12).`,
      });
    }
  },
);

Then(
  'an upgrade offering only the subprotocol {string} is refused with HTTP status {int}',
  async function (this: ConformanceWorld, subprotocol: string, status: number) {
    const seen = await refusedUpgrade(this, { subprotocols: [subprotocol] });
    if (seen === undefined || !seen.includes(`HTTP ${status}`)) {
      this.fail({
        expected: `an upgrade offering only ${subprotocol} is refused with HTTP ${status}`,
        actual: seen ?? 'the upgrade succeeded',
        hint: 'Refuse an upgrade whose Sec-WebSocket-Protocol list lacks ecp.v1 with 400 (ECP-TR-07).',
      });
    }
  },
);

// --- frames ------------------------------------------------------------------------------------

When('{member} sends a binary frame', async function (this: ConformanceWorld, label: string) {
  const client = this.client(label);
  client.sendFrame(
    Buffer.from(JSON.stringify({ type: 'message', message: 'binary', encrypted: false })),
    true,
    'a binary frame holding a chat message',
  );
});

When(
  '{member} sends a frame one byte longer than the line limit',
  async function (this: ConformanceWorld, label: string) {
    const limit = this.limits.maxLineBytes;
    this.client(label).sendFrame(
      chatOfLength(limit + 1),
      false,
      `a text frame of ${limit + 1} bytes (limit + 1)`,
    );
  },
);

When(
  '{member} sends the chat messages {string} and {string} in one frame',
  async function (this: ConformanceWorld, label: string, first: string, second: string) {
    const client = this.client(label);
    const lines = [first, second].map((text) =>
      JSON.stringify({ type: 'message', message: client.seal(text), encrypted: true }),
    );
    client.sendFrame(
      `${lines.join('\n')}\n`,
      false,
      `one text frame holding two chat messages: ${first}, ${second}`,
    );
  },
);

When(
  '{member} sends a text frame that is not valid UTF-8',
  async function (this: ConformanceWorld, label: string) {
    const bytes = Buffer.concat([
      Buffer.from('{"type": "message", "message": "'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from('", "encrypted": false}'),
    ]);
    this.client(label).sendFrame(bytes, false, 'a text frame with bytes that are not UTF-8');
  },
);

When(
  /^(\w+) sends the chat message "([^"]*)" in a frame ending with (a line feed|CR LF)$/,
  async function (this: ConformanceWorld, label: string, text: string, ending: string) {
    const client = this.client(label);
    const line = JSON.stringify({ type: 'message', message: client.seal(text), encrypted: true });
    client.sendFrame(
      `${line}${ending === 'CR LF' ? '\r\n' : '\n'}`,
      false,
      `"${text}" in a frame ending with ${ending}`,
    );
  },
);

Then(
  "the server closes {member}'s connection with close code {int}",
  async function (this: ConformanceWorld, label: string, code: number) {
    await this.expectEnd(label, `the server closes ${label}'s connection with close code ${code}`);
    const client = this.client(label);
    if (client.closeCode !== code) {
      this.fail({
        expected: `${label}'s connection is closed with WebSocket close code ${code}`,
        actual: `it ended: ${client.ended?.how ?? 'no close frame'}`,
        hint: 'docs/protocol.md section 14.2 lists the close code for each frame that is not one ECP message.',
      });
    }
  },
);

Then(
  'every frame {member} received holds one JSON object and no line feed',
  async function (this: ConformanceWorld, label: string) {
    if (this.members.includes(label)) await this.probe(label);
    const client = this.client(label);
    const violation = client.framingViolations[0];
    const bad = client.lines.find(
      (line) =>
        !line.validUtf8 || typeof line.json !== 'object' || line.json === null || Array.isArray(line.json),
    );
    if (violation !== undefined || bad !== undefined) {
      this.fail({
        expected: `every frame ${label} receives is a text frame holding one JSON object, with no line feed inside it`,
        actual: violation ?? `frame ${bad!.index + 1} is not one JSON object: ${this.describeLine(bad)}`,
        hint: 'Send each message in a text frame of its own (ECP-TR-05).',
      });
    }
  },
);

// --- TLS ---------------------------------------------------------------------------------------

Then(
  /^a client that offers only TLS (1\.[0-3]) (can|cannot) connect$/,
  async function (this: ConformanceWorld, version: string, can: string) {
    const accepted = await tlsVersionAccepted(this.endpoint, `TLSv${version}` as 'TLSv1.2', this.timeoutMs);
    if (accepted !== (can === 'can')) {
      this.fail({
        expected: `a TLS ${version} handshake with ${formatEndpoint(this.endpoint)} ${can === 'can' ? 'succeeds' : 'fails'}`,
        actual: accepted ? 'it succeeded' : 'it failed',
        hint: 'Offer TLS 1.2 and 1.3 only (ECP-TR-02).',
      });
    }
  },
);
