/**
 * One connection's life over real sockets: the v1 sequences (join, relay and echo, leave, wrong
 * password, taken name) and every kind of bad input, each with its documented answer.
 */
import { generateKeyPairSync } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PeerConnection } from '../../conformance/peer/index.ts';
import {
  authErrors,
  exportPublicKeyPem,
  Fernet,
  generateRsaKeyPair,
  notices,
  openText,
  type RsaKeyPair,
  sealText,
  unwrapRoomKey,
} from '../../protocol/index.ts';
import type { ServerOptions } from '../../reference-server/index.ts';
import { handshake, joinAs, PASSWORD, ServerHarness } from '../support/server-harness.ts';
import { testKeys } from '../support/test-keys.ts';

let keys: RsaKeyPair[];
const harness = new ServerHarness();

beforeAll(async () => {
  keys = await testKeys();
});

afterEach(() => harness.stop());

const start = (options: ServerOptions = {}) => harness.start(options);
const connect = () => harness.connect();
const member = (name: string, key = keys[0]!) => harness.member(name, key);

/** alice and bob in the room, with every join line already read. */
async function aliceAndBob(): Promise<[PeerConnection, PeerConnection]> {
  const alice = await member('alice', keys[0]);
  const bob = await member('bob', keys[1]);
  await alice.nextN(2);
  return [alice, bob];
}

const system = (message: string) => ({ type: 'system', message });
const userList = (...users: string[]) => ({ type: 'user_list', users });

describe('v1 sequences', () => {
  it('sends the joiner welcome, key_exchange, secured, user_list; then others user_list and joined', async () => {
    await start();
    const alice = await connect();
    handshake(alice, 'alice', PASSWORD, keys[0]!);
    const [welcome, keyExchange, secured, list] = await alice.nextN(4);
    expect(welcome).toEqual(system(notices.welcome('alice')));
    expect(keyExchange?.type).toBe('key_exchange');
    expect(keyExchange?.encrypted_key).toMatch(/^[A-Za-z0-9+/]{342}==$/);
    expect(secured).toEqual(system(notices.secured));
    expect(list).toEqual(userList('alice'));

    const bob = await connect();
    const bobLines = await joinAs(bob, 'bob', PASSWORD, keys[1]!);
    expect(bobLines[0]).toEqual(system(notices.welcome('bob')));
    expect(bobLines[3]).toEqual(userList('alice', 'bob'));
    expect(await alice.nextN(2)).toEqual([userList('alice', 'bob'), system(notices.joined('bob'))]);
    await bob.expectSilence();
  });

  it('relays to the others first, then echoes to the sender, with sender set by the server', async () => {
    await start();
    const [alice, bob] = await aliceAndBob();
    const carol = await member('carol', keys[2]);
    await alice.nextN(2);
    await bob.nextN(2);
    alice.send({ type: 'message', message: 'hi', encrypted: false, sender: 'mallory', extra: 1 });
    const expected = { type: 'message', sender: 'alice', message: 'hi', encrypted: false };
    expect(await bob.next()).toEqual(expected);
    expect(await carol.next()).toEqual(expected);
    expect(await alice.next()).toEqual(expected);
  });

  it('tells the remaining members user_list then left when a member disconnects', async () => {
    await start();
    const [alice, bob] = await aliceAndBob();
    bob.end();
    expect(await alice.nextN(2)).toEqual([userList('alice'), system(notices.left('bob'))]);
    await bob.closed();
  });

  it('frees the name of a member who left (ECP-LV-03)', async () => {
    await start();
    const [alice, bob] = await aliceAndBob();
    bob.destroy();
    await alice.nextN(2);
    const again = await member('bob', keys[2]);
    expect(again.received[3]).toEqual(userList('alice', 'bob'));
  });

  it('answers a wrong password with auth_error and closes', async () => {
    await start();
    const client = await connect();
    handshake(client, 'alice', 'wrong', keys[0]!);
    expect(await client.next()).toEqual({ type: 'auth_error', message: authErrors.invalidPassword });
    await client.closed();
    expect(harness.server.usernames()).toEqual([]);
  });

  it('answers a taken name with a system notice, keeps the connection, and accepts a later free name', async () => {
    await start();
    const alice = await member('alice', keys[0]);
    const other = await connect();
    handshake(other, 'alice', PASSWORD, keys[1]!);
    expect(await other.next()).toEqual(system(notices.usernameTaken));
    await other.expectSilence();
    expect(other.isClosed).toBe(false);
    await alice.expectSilence(0);
    // Not a member: chat is ignored.
    other.send({ type: 'message', message: 'sneaky', encrypted: false });
    await alice.expectSilence();
    const lines = await joinAs(other, 'alice2', PASSWORD, keys[1]!);
    expect(lines[3]).toEqual(userList('alice', 'alice2'));
  });

  it('ignores a second handshake from a member', async () => {
    await start();
    const [alice, bob] = await aliceAndBob();
    handshake(alice, 'eve', PASSWORD, keys[2]!);
    await alice.expectSilence();
    await bob.expectSilence(0);
    expect(harness.server.usernames()).toEqual(['alice', 'bob']);
  });

  it('delivers a burst from one sender complete and in order to everyone (ECP-CHAT-05)', async () => {
    await start();
    const [alice, bob] = await aliceAndBob();
    const count = 500;
    alice.sendRaw(
      Array.from({ length: count }, (_, i) =>
        JSON.stringify({ type: 'message', message: `m${i}`, encrypted: false }),
      )
        .join('\n')
        .concat('\n'),
    );
    const atBob = await bob.nextN(count);
    const atAlice = await alice.nextN(count);
    expect(atBob.map((m) => m.message)).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
    expect(atAlice.map((m) => m.message)).toEqual(atBob.map((m) => m.message));
    expect(harness.server.stats().messagesRelayed).toBe(count);
  });

  it('accepts lines split at every byte, several lines per write, and CRLF endings', async () => {
    await start();
    const alice = await member('alice', keys[0]);
    const bob = await connect();
    const handshake = Buffer.from(
      `${JSON.stringify({ type: 'handshake', username: 'bób', server_password: PASSWORD, public_key: keys[1]!.publicKeyPem })}\r\n`,
    );
    for (let i = 0; i < handshake.length; i++) bob.sendRaw(handshake.subarray(i, i + 1));
    expect((await bob.nextN(4))[3]).toEqual(userList('alice', 'bób'));
    await alice.nextN(2);
    bob.sendRaw(
      '{"type":"message","message":"1","encrypted":false}\r\n{"type":"message","message":"2","encrypted":false}\n',
    );
    expect((await alice.nextN(2)).map((m) => m.message)).toEqual(['1', '2']);
  });

  it('writes ASCII-only JSON, escaping non-ASCII (safe for the prototype client)', async () => {
    await start();
    const alice = await connect();
    const lines: string[] = [];
    alice.connection.on('message', (line) => lines.push(line));
    await joinAs(alice, 'Zoë 😀', PASSWORD, keys[0]!);
    alice.send({ type: 'message', message: 'ça va? 李', encrypted: false });
    expect(await alice.next()).toEqual({
      type: 'message',
      sender: 'Zoë 😀',
      message: 'ça va? 李',
      encrypted: false,
    });
    const raw = Buffer.from(lines.join('\n'));
    expect(raw.every((byte) => byte < 0x80)).toBe(true);
    expect(raw.toString()).toContain('"sender":"Zo\\u00eb \\ud83d\\ude00"');
  });

  it('relays payloads verbatim: unicode, escapes, invalid tokens, the encrypted flag', async () => {
    await start();
    const [alice, bob] = await aliceAndBob();
    const payloads = ['😀 José "quoted" \\ back\nslash', 'not-base64!!', '', '\u2028\u2029', 'Z0FBQUFB'];
    for (const [i, payload] of payloads.entries()) {
      alice.send({ type: 'message', message: payload, encrypted: i % 2 === 0 });
      expect(await bob.next()).toEqual({
        type: 'message',
        sender: 'alice',
        message: payload,
        encrypted: i % 2 === 0,
      });
      await alice.next();
    }
  });
});

describe('end-to-end encryption through the server', () => {
  it('a second client decrypts what the first sealed, with the room key each unwrapped', async () => {
    await start();
    const alice = await connect();
    const aliceJoin = await joinAs(alice, 'alice', PASSWORD, keys[0]!);
    const bob = await connect();
    const bobJoin = await joinAs(bob, 'bob', PASSWORD, keys[1]!);
    await alice.nextN(2);
    const aliceKey = unwrapRoomKey(aliceJoin[1]!.encrypted_key, keys[0]!.privateKey);
    const bobKey = unwrapRoomKey(bobJoin[1]!.encrypted_key, keys[1]!.privateKey);
    expect(bobKey).toBe(aliceKey);
    expect(aliceJoin[1]!.encrypted_key).not.toBe(bobJoin[1]!.encrypted_key);

    const text = 'meet at noon, 🕛';
    const payload = sealText(new Fernet(aliceKey), text);
    alice.send({ type: 'message', message: payload, encrypted: true });
    const received = await bob.next();
    expect(received).toEqual({ type: 'message', sender: 'alice', message: payload, encrypted: true });
    expect(openText(new Fernet(bobKey), received.message)).toBe(text);
  });
});

describe('bad handshakes', () => {
  it.each([
    ['missing public_key', { username: 'a', server_password: PASSWORD }, "missing field 'public_key'"],
    ['missing username', { server_password: PASSWORD, public_key: 'x' }, "missing field 'username'"],
    [
      'a number username',
      { username: 7, server_password: PASSWORD, public_key: 'x' },
      "field 'username' must be a string",
    ],
    [
      'a null password',
      { username: 'a', server_password: null, public_key: 'x' },
      "field 'server_password' must be a string",
    ],
  ])('refuses a handshake with %s: auth_error Invalid handshake, close', async (_, fields, problem) => {
    await start();
    const watcher = await member('watcher', keys[0]);
    const client = await connect();
    client.send({ type: 'handshake', ...fields });
    expect(await client.next()).toEqual({
      type: 'auth_error',
      message: authErrors.invalidHandshake(problem),
    });
    await client.closed();
    await watcher.expectSilence(50);
  });

  it('refuses an unparseable key, a non-RSA key and a 1024-bit key; never lists them', async () => {
    await start();
    const watcher = await member('watcher', keys[0]);
    const ec = exportPublicKeyPem(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey);
    const ed = exportPublicKeyPem(generateKeyPairSync('ed25519').publicKey);
    const weak = (await generateRsaKeyPair(1024)).publicKeyPem;
    const pkcs1 = keys[1]!.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    // A line of the base64 body missing: the DER inside no longer parses.
    const garbled = keys[1]!.publicKeyPem.replace(/\n[A-Za-z0-9+/]{64}\n/, '\n');
    const cases: [string, string][] = [
      ['not a key', 'not a PEM SubjectPublicKeyInfo'],
      [pkcs1, 'not a PEM SubjectPublicKeyInfo'],
      [garbled, 'not a PEM SubjectPublicKeyInfo'],
      [ec, 'not an RSA key'],
      [ed, 'not an RSA key'],
      [weak, 'modulus is 1024 bits; at least 2048 required'],
    ];
    for (const [pem, reason] of cases) {
      const client = await connect();
      handshake(client, 'mallory', PASSWORD, pem);
      const answer = await client.next();
      expect(answer.type).toBe('auth_error');
      expect(answer.message).toBe(authErrors.invalidPublicKey(reason));
      await client.closed();
    }
    await watcher.expectSilence(50);
    expect(harness.server.usernames()).toEqual(['watcher']);
    expect(harness.server.stats().handshakeFailures.invalid_public_key).toBe(cases.length);
  });

  it('accepts a 3072-bit key', async () => {
    await start();
    const big = await generateRsaKeyPair(3072);
    const client = await connect();
    const lines = await joinAs(client, 'big', PASSWORD, big);
    expect(lines[1]!.encrypted_key).toHaveLength(512);
    expect(unwrapRoomKey(lines[1]!.encrypted_key, big.privateKey)).toHaveLength(44);
  });

  it.each([
    ['empty', ''],
    ['33 characters', 'x'.repeat(33)],
    ['a control character', 'ali\u0007ce'],
    ['a newline', 'ali\nce'],
    ['DEL', 'alice\u007f'],
  ])('refuses a username that is %s', async (_, username) => {
    await start();
    const client = await connect();
    handshake(client, username, PASSWORD, keys[0]!);
    expect(await client.next()).toEqual({ type: 'auth_error', message: authErrors.invalidUsername });
    await client.closed();
  });

  it('accepts 32 emoji, spaces and joiners (characters are code points, only Cc is refused)', async () => {
    await start();
    for (const [i, name] of ['😀'.repeat(32), 'Ana María', '👩‍💻 dev', 'x'.repeat(32)].entries()) {
      const client = await connect();
      const lines = await joinAs(client, name, PASSWORD, keys[i % keys.length]!);
      expect(lines[0]).toEqual(system(notices.welcome(name)));
    }
  });

  it('checks the password before the name and the name before the key', async () => {
    await start();
    await member('alice', keys[0]);
    const a = await connect();
    handshake(a, '', 'wrong', 'bad key');
    expect((await a.next()).message).toBe(authErrors.invalidPassword);
    const b = await connect();
    handshake(b, '', PASSWORD, 'bad key');
    expect((await b.next()).message).toBe(authErrors.invalidUsername);
    const c = await connect();
    handshake(c, 'alice', PASSWORD, 'bad key');
    expect(await c.next()).toEqual(system(notices.usernameTaken));
  });

  it('refuses a connection that never completes its handshake, even after a taken name', async () => {
    await start({ limits: { handshakeTimeoutMs: 300 } });
    const alice = await member('alice', keys[0]);
    const idle = await connect();
    const taken = await connect();
    handshake(taken, 'alice', PASSWORD, keys[1]!);
    expect(await taken.next()).toEqual(system(notices.usernameTaken));
    expect(await idle.next()).toEqual({ type: 'auth_error', message: authErrors.handshakeTimeout });
    expect(await taken.next()).toEqual({ type: 'auth_error', message: authErrors.handshakeTimeout });
    await idle.closed();
    await taken.closed();
    // A member is never timed out.
    await alice.expectSilence(100);
    expect(alice.isClosed).toBe(false);
    expect(harness.server.stats().handshakeFailures.handshake_timeout).toBe(2);
  });
});

describe('ignored input', () => {
  const ignorable: [string, string | Buffer][] = [
    ['not JSON', 'hello there'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"x"'],
    ['null', 'null'],
    ['whitespace', '   '],
    ['no type', '{"message":"x","encrypted":false}'],
    ['a numeric type', '{"type":5}'],
    ['an unknown type', '{"type":"shout","message":"x"}'],
    ['a server type', '{"type":"system","message":"fake"}'],
    ['a user_list', '{"type":"user_list","users":["eve"]}'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['chat without encrypted', '{"type":"message","message":"x"}'],
    ['chat with a numeric message', '{"type":"message","message":5,"encrypted":false}'],
    ['chat with a string encrypted', '{"type":"message","message":"x","encrypted":"yes"}'],
  ];

  it.each(ignorable)(
    'ignores %s from a member: nothing sent, nothing relayed, still served',
    async (_, line) => {
      await start();
      const [alice, bob] = await aliceAndBob();
      alice.sendRaw(typeof line === 'string' ? `${line}\n` : Buffer.concat([line, Buffer.from('\n')]));
      await alice.expectSilence(100);
      await bob.expectSilence(0);
      alice.send({ type: 'message', message: 'still here', encrypted: false });
      expect((await bob.next()).message).toBe('still here');
      expect((await alice.next()).message).toBe('still here');
    },
  );

  it.each(ignorable)('ignores %s before the handshake, which then still works', async (_, line) => {
    await start();
    const watcher = await member('watcher', keys[0]);
    const client = await connect();
    client.sendRaw(typeof line === 'string' ? `${line}\n` : Buffer.concat([line, Buffer.from('\n')]));
    await client.expectSilence(80);
    await watcher.expectSilence(0);
    expect((await joinAs(client, 'late', PASSWORD, keys[1]!))[3]).toEqual(userList('watcher', 'late'));
  });

  it('ignores chat before the handshake: nothing reaches the members', async () => {
    await start();
    const watcher = await member('watcher', keys[0]);
    const client = await connect();
    client.send({ type: 'message', message: 'early', encrypted: false });
    await client.expectSilence();
    await watcher.expectSilence(0);
  });
});

describe('line limit', () => {
  it('processes a line of exactly the limit and refuses a longer one with lineTooLong, then closes', async () => {
    const maxLineBytes = 4096;
    await start({ limits: { maxLineBytes } });
    const [alice, bob] = await aliceAndBob();
    const overhead = JSON.stringify({ type: 'message', message: '', encrypted: false }).length;
    const exact = { type: 'message', message: 'a'.repeat(maxLineBytes - overhead), encrypted: false };
    expect(JSON.stringify(exact)).toHaveLength(maxLineBytes);
    alice.send(exact);
    expect((await bob.next()).message).toHaveLength(maxLineBytes - overhead);
    await alice.next();

    alice.sendRaw('x'.repeat(maxLineBytes + 10));
    expect(await alice.next()).toEqual(system(notices.lineTooLong(maxLineBytes)));
    await alice.closed();
    expect(await bob.nextN(2)).toEqual([userList('bob'), system(notices.left('alice'))]);
  });

  it('refuses an endless line before the handshake without buffering it', async () => {
    await start({ limits: { maxLineBytes: 1024 } });
    const client = await connect();
    const chunk = 'y'.repeat(64 * 1024);
    for (let i = 0; i < 16; i++) client.sendRaw(chunk);
    expect(await client.next()).toEqual(system(notices.lineTooLong(1024)));
    await client.closed();
    expect(harness.server.stats().badInput.line_too_long).toBe(1);
  });
});

describe('logging', () => {
  function memoryLogger() {
    const lines: Record<string, unknown>[] = [];
    const text: string[] = [];
    const logger = pino(
      { level: 'debug' },
      {
        write(line: string) {
          text.push(line);
          lines.push(JSON.parse(line));
        },
      },
    );
    return { logger, lines, text };
  }

  it('logs accepted, joined, refused and left, and never a password or a payload', async () => {
    const log = memoryLogger();
    await start({ logger: log.logger });
    const [alice, bob] = await aliceAndBob();
    alice.send({ type: 'message', message: 'TOP-SECRET-PAYLOAD', encrypted: false });
    await bob.next();
    const wrong = await connect();
    handshake(wrong, 'eve', 'WRONG-PASSWORD-GUESS', keys[2]!);
    await wrong.closed();
    bob.end();
    await alice.nextN(3);
    await harness.server.close();
    const messages = log.lines.map((line) => line.msg);
    expect(messages).toContain('listening');
    expect(messages).toContain('connection accepted');
    expect(messages).toContain('joined');
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: 'handshake refused', reason: 'invalid_password' }),
    );
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: 'left', username: 'bob', reason: 'client_closed' }),
    );
    const all = log.text.join('');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain('WRONG-PASSWORD-GUESS');
    expect(all).not.toContain('TOP-SECRET-PAYLOAD');
  });

  it('logs repeated bad input once per connection and counts the rest', async () => {
    const log = memoryLogger();
    await start({ logger: log.logger });
    const alice = await member('alice', keys[0]);
    alice.sendRaw('nope\n'.repeat(1000));
    alice.sendRaw('{"type":"zzz"}\n'.repeat(10));
    alice.send({ type: 'message', message: 'sync', encrypted: false });
    await alice.next();
    alice.end();
    await alice.closed();
    await harness.server.close();
    const badInput = log.lines.filter((line) => line.msg === 'bad input');
    expect(badInput.map((line) => line.kind)).toEqual(['invalid_json', 'unknown_type']);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ msg: 'left', badInput: { invalid_json: 1000, unknown_type: 10 } }),
    );
  });
});
