/**
 * Joining: the client's handshake and key, refused joins, and the room's TLS certificate.
 */
import { createPublicKey } from 'node:crypto';
import { Given, Then, When } from '@cucumber/cucumber';
import { CLIENT_USERNAME, type ClientWorld, describe } from '../client-world.ts';

Given("the room's password is not the one the client is given", function (this: ClientWorld) {
  this.clientPassword = `not-${this.password}`;
});

Given("the room already has a member with the client's username", function (this: ClientWorld) {
  this.play = 'name-taken';
});

Given(
  'the room presents a certificate for another host, from an authority the client trusts',
  function (this: ClientWorld) {
    this.certificate = 'other-host';
  },
);

Given(
  'the room presents a certificate from an authority the client does not trust',
  function (this: ClientWorld) {
    this.certificate = 'untrusted';
  },
);

When('the client tries to join the room', async function (this: ClientWorld) {
  await this.startClient();
});

When('the client joins the room', async function (this: ClientWorld) {
  await this.startClient();
  await this.handshake();
  await this.untilMember();
});

Given('the client has joined the room', async function (this: ClientWorld) {
  await this.startClient();
  await this.joined();
});

Then(
  "the client's first message is a handshake with its username, the password and a public key, all strings",
  async function (this: ClientWorld) {
    await this.handshake();
    const first = (await this.connection()).received[0]!;
    const problems: string[] = [];
    if (first.type !== 'handshake')
      problems.push(`its first message has "type" ${JSON.stringify(first.type)}`);
    if (first.username !== CLIENT_USERNAME) problems.push(`"username" is ${JSON.stringify(first.username)}`);
    if (first.server_password !== this.clientPassword)
      problems.push('"server_password" is not the password it was given');
    if (typeof first.public_key !== 'string')
      problems.push(`"public_key" is ${JSON.stringify(first.public_key)}`);
    if (problems.length > 0) {
      this.fail({
        expected: `a first message {"type": "handshake", "username": "${CLIENT_USERNAME}", "server_password": <the password>, "public_key": <PEM text>}`,
        actual: `${problems.join('; ')} (first message: ${describe([first])})`,
      });
    }
  },
);

Then(
  "the client's public key is an RSA key of at least 2048 bits with exponent 65537, in PEM SubjectPublicKeyInfo",
  async function (this: ClientWorld) {
    const pem = String((await this.handshake()).public_key);
    const expected =
      'public_key: "-----BEGIN PUBLIC KEY-----" PEM of an RSA key, modulus >= 2048 bits, exponent 65537';
    if (!pem.trimStart().startsWith('-----BEGIN PUBLIC KEY-----')) {
      this.fail({ expected, actual: `public_key begins ${JSON.stringify(pem.slice(0, 40))}` });
    }
    let details: { type?: string; bits?: number; exponent?: bigint };
    try {
      const key = createPublicKey({ key: pem, format: 'pem' });
      details = {
        type: key.asymmetricKeyType,
        bits: key.asymmetricKeyDetails?.modulusLength,
        exponent: key.asymmetricKeyDetails?.publicExponent,
      };
    } catch (error) {
      this.fail({ expected, actual: `public_key does not parse: ${(error as Error).message}` });
    }
    if (details.type !== 'rsa' || (details.bits ?? 0) < 2048 || details.exponent !== 65537n) {
      this.fail({
        expected,
        actual: `a ${details.type} key of ${details.bits} bits, exponent ${details.exponent}`,
      });
    }
  },
);

Then(
  'the client is refused: it sends no chat message and exits with a non-zero status',
  async function (this: ClientWorld) {
    // It did ask to join: a client that never gets as far as a handshake proves nothing here.
    await this.handshake();
    const connection = await this.connection();
    if (this.readsOutput) {
      const exit = await this.exits('C5');
      if (exit.code === 0) this.failContract('C5', 'the client exited with status 0');
    } else {
      await Promise.race([
        connection.whenClosed,
        new Promise((resolve) => setTimeout(resolve, this.graceMs)),
      ]);
    }
    const chats = connection.received.filter((message) => message.type === 'message');
    if (chats.length > 0) {
      this.fail({
        expected: 'no chat message from a client that was not admitted',
        actual: `it sent ${describe(chats)}`,
      });
    }
  },
);

Then("the client refuses the room's certificate and sends nothing", async function (this: ClientWorld) {
  const peer = this.peer!;
  const deadline = Date.now() + Math.max(this.timeoutMs, this.parameters.startTimeoutMs);
  // Bounded polling: the evidence is a refused TLS handshake, a message, or the client's exit.
  while (Date.now() < deadline) {
    const sent = peer.connections.find((connection) => connection.received.length > 0);
    if (sent) {
      this.fail({
        expected: `the client refuses the room's certificate (${this.certificate === 'other-host' ? 'it names not-this-host.invalid' : 'no authority it trusts signed it'})`,
        actual: `it completed the TLS handshake and sent ${describe(sent.received)}`,
      });
    }
    if (peer.rejected.length > 0 || this.client?.exit) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  this.fail({
    expected: "the client refuses the room's certificate, closing the TLS handshake",
    actual: `neither a refused handshake nor an exit within ${deadline} ms`,
  });
});
