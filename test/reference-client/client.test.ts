import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acceptJoin,
  connectPeer,
  type PeerConnection,
  pythonJson,
  type ScriptedPeer,
  startPeer,
  startV1Room,
} from '../../conformance/peer/index.ts';
import { Fernet, notices, sealText, wrapRoomKey } from '../../protocol/index.ts';
import { type ClientOptions, EcpClient } from '../../reference-client/index.ts';
import { onlyOnce, until } from '../support/waiting.ts';
import { describeChatScenarios, keyPair } from './chat-scenarios.ts';
import { EventRecorder } from './event-recorder.ts';

const newRoomKey = () => Fernet.generateKey();

describeChatScenarios('a prototype-like v1 server', async () => {
  const room = await startV1Room({ password: 'secret123' });
  return { port: room.port, password: 'secret123', close: onlyOnce(() => room.close()) };
});

describe('EcpClient in a room whose key changes mid-conversation', () => {
  it('members follow the new key; a message sealed with the old key in flight still decrypts', async () => {
    const room = await startV1Room({ password: 'secret123' });
    const join = (username: string) =>
      new EcpClient({ host: '127.0.0.1', port: room.port, username, password: 'secret123' });
    const alice = join('alice');
    const bob = join('bob');
    // dave speaks raw v1, so he can send a payload sealed with whatever key the test picks.
    const dave = await connectPeer(room.url);
    try {
      const atAlice = new EventRecorder(alice);
      const atBob = new EventRecorder(bob);
      await alice.connect();
      await bob.connect();
      const daveKeys = await keyPair(2);
      dave.send({
        type: 'handshake',
        username: 'dave',
        server_password: 'secret123',
        public_key: daveKeys.publicKeyPem,
      });
      await atBob.waitFor('users', (e) => e.joined.includes('dave'));
      alice.send('before the change');
      expect(await atBob.waitFor('message', (m) => m.sender === 'alice')).toMatchObject({
        text: 'before the change',
        key: 'current',
      });

      const oldKey = room.room.roomKey;
      const newKey = room.room.rotateKey();
      await atAlice.waitFor('keyChanged');
      await atBob.waitFor('keyChanged');
      // Sealed by dave before he saw the new key; the server relays it after.
      const inFlight = sealText(new Fernet(oldKey), 'sealed before the change');
      dave.send({ type: 'message', message: inFlight, encrypted: true });
      for (const recorder of [atAlice, atBob]) {
        expect(await recorder.waitFor('message', (m) => m.sender === 'dave')).toMatchObject({
          kind: 'encrypted',
          text: 'sealed before the change',
          key: 'previous',
        });
      }

      alice.send('after the change');
      const after = await atBob.waitFor(
        'message',
        (m) => m.kind === 'encrypted' && m.text === 'after the change',
      );
      expect(after).toMatchObject({ sender: 'alice', key: 'current' });
      expect(new Fernet(newKey).keyText).toBe(newKey);
    } finally {
      dave.destroy();
      await Promise.all([alice.close(), bob.close()]);
      await room.close();
    }
  });
});

describe('EcpClient against a scripted fake server', () => {
  let server: ScriptedPeer | undefined;
  const clients: EcpClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await server?.close();
    server = undefined;
  });

  async function clientFor(
    script: (connection: PeerConnection) => unknown,
    options: Partial<ClientOptions> = {},
  ) {
    server = await startPeer(script);
    const client = new EcpClient({
      host: '127.0.0.1',
      port: server.port,
      username: 'alice',
      password: 'secret123',
      timeoutMs: 3_000,
      keyPair: await keyPair(0),
      ...options,
    });
    clients.push(client);
    return { client, recorder: new EventRecorder(client) };
  }

  it('sends a v1 handshake and joins after key_exchange then user_list', async () => {
    const roomKey = newRoomKey();
    let handshake: Record<string, unknown> = {};
    const { client, recorder } = await clientFor(async (connection) => {
      handshake = await acceptJoin(connection, roomKey, ['bob', 'alice']);
    });
    expect(await client.connect()).toEqual({ username: 'alice', users: ['bob', 'alice'] });
    expect(handshake).toMatchObject({ type: 'handshake', username: 'alice', server_password: 'secret123' });
    expect(String(handshake.public_key)).toContain('-----BEGIN PUBLIC KEY-----');
    expect(recorder.events.map((e) => e.name)).toEqual(['system', 'system', 'joined']);
    expect(client.state).toBe('joined');
    expect(client.users).toEqual(['bob', 'alice']);
  });

  it('a user_list before the key does not complete the join', async () => {
    const roomKey = newRoomKey();
    const { client, recorder } = await clientFor(async (connection) => {
      const handshake = await connection.next();
      connection.send({ type: 'user_list', users: ['alice'] });
      await new Promise((resolve) => setTimeout(resolve, 50));
      connection.send({
        type: 'key_exchange',
        encrypted_key: wrapRoomKey(roomKey, String(handshake.public_key)),
      });
      connection.send({ type: 'user_list', users: ['alice', 'bob'] });
    });
    expect((await client.connect()).users).toEqual(['alice', 'bob']);
    expect(recorder.all('joined')).toHaveLength(1);
  });

  it('sends encrypted by default and plaintext only when asked', async () => {
    const roomKey = newRoomKey();
    const received: Record<string, unknown>[] = [];
    const { client } = await clientFor(async (connection) => {
      await acceptJoin(connection, roomKey);
      received.push(await connection.next(), await connection.next());
    });
    expect(() => client.send('too early')).toThrow(expect.objectContaining({ code: 'ECP_NOT_JOINED' }));
    await client.connect();
    client.send('secret');
    client.send('in the clear', { plaintext: true });
    await until(() => received.length === 2);
    expect(received[0]).toMatchObject({ type: 'message', encrypted: true });
    expect(
      new Fernet(roomKey).decrypt(Buffer.from(String(received[0]!.message), 'base64').toString()).toString(),
    ).toBe('secret');
    expect(received[1]).toEqual({ type: 'message', message: 'in the clear', encrypted: false });
  });

  it('marks plaintext as plaintext and never decrypts it, and surfaces undecryptable messages', async () => {
    const roomKey = newRoomKey();
    const otherKey = new Fernet(newRoomKey());
    const sealed = sealText(new Fernet(roomKey), 'sealed text');
    const { client, recorder } = await clientFor(async (connection) => {
      await acceptJoin(connection, roomKey);
      connection.send({ type: 'message', sender: 'bob', message: sealed, encrypted: false });
      connection.send({ type: 'message', sender: 'bob', message: 'hello', encrypted: true });
      connection.send({
        type: 'message',
        sender: 'bob',
        message: sealText(otherKey, 'wrong key'),
        encrypted: true,
      });
      connection.send({ type: 'message', sender: 'bob', message: sealed, encrypted: true });
    });
    await client.connect();
    await until(() => recorder.all('message').length === 4);
    const [plain, notBase64, wrongKey, good] = recorder.all('message');
    expect(plain).toMatchObject({ kind: 'plaintext', sender: 'bob', text: sealed });
    expect(notBase64).toMatchObject({ kind: 'undecryptable', payload: 'hello' });
    expect(notBase64).not.toHaveProperty('text');
    expect(wrongKey).toMatchObject({
      kind: 'undecryptable',
      reason: expect.stringContaining('ECP_INVALID_TOKEN'),
    });
    expect(good).toMatchObject({ kind: 'encrypted', text: 'sealed text', own: false });
    expect(client.state).toBe('joined');
  });

  it('garbage from the server is a protocol error event, not a crash, and the session goes on', async () => {
    const roomKey = newRoomKey();
    const { client, recorder } = await clientFor(
      async (connection) => {
        const handshake = await connection.next();
        connection.sendRaw('this is not json\n');
        connection.send({
          type: 'key_exchange',
          encrypted_key: wrapRoomKey(roomKey, String(handshake.public_key)),
        });
        connection.sendRaw('[1, 2, 3]\n{"type": "telepathy", "x": 1}\n{"type": "user_list"}\n');
        connection.sendRaw('{"type": "system", "message": 42}\n');
        connection.sendRaw(Buffer.from([0xff, 0xfe, 0x0a]));
        connection.sendRaw(`{"type": "system", "message": "${'x'.repeat(1200)}"}\n`);
        connection.send({ type: 'user_list', users: ['alice'] });
        connection.sendRaw('\u0000\u0001 binary \u0002\n');
        connection.send({
          type: 'message',
          sender: 'bob',
          message: sealText(new Fernet(roomKey), 'ok'),
          encrypted: true,
        });
      },
      { maxLineBytes: 1000 },
    );
    await client.connect();
    await recorder.waitFor('message');
    const details = recorder.all('protocolError').map((e) => e.error.detail);
    expect(details).toEqual([
      'ECP_INVALID_JSON',
      'ECP_NOT_AN_OBJECT',
      'ECP_UNKNOWN_TYPE',
      'ECP_MISSING_FIELD',
      'ECP_WRONG_FIELD_TYPE',
      'ECP_INVALID_UTF8',
      'ECP_LINE_TOO_LONG',
      'ECP_INVALID_JSON',
    ]);
    for (const event of recorder.all('protocolError')) expect(event.error.code).toBe('ECP_PROTOCOL_ERROR');
    expect(recorder.all('protocolError')[0]!.line).toBe('this is not json');
    expect(client.state).toBe('joined');
  });

  it('accepts a new key mid-conversation; messages in flight under the old key still decrypt', async () => {
    const oldKey = newRoomKey();
    const newKey = newRoomKey();
    const { client, recorder } = await clientFor(async (connection) => {
      const handshake = await acceptJoin(connection, oldKey, ['alice', 'bob']);
      const say = (key: string, text: string) =>
        connection.send({
          type: 'message',
          sender: 'bob',
          message: sealText(new Fernet(key), text),
          encrypted: true,
        });
      say(oldKey, 'before');
      connection.send({
        type: 'key_exchange',
        encrypted_key: wrapRoomKey(newKey, String(handshake.public_key)),
      });
      say(oldKey, 'in flight');
      say(newKey, 'after');
      // Repeating the current key is not a change.
      connection.send({
        type: 'key_exchange',
        encrypted_key: wrapRoomKey(newKey, String(handshake.public_key)),
      });
      const sent = await connection.next();
      connection.send({ type: 'message', sender: 'alice', message: sent.message, encrypted: true });
    });
    await client.connect();
    await until(() => recorder.all('message').length === 3);
    client.send('sealed with the new key');
    await recorder.waitFor('message', (m) => m.own);
    expect(recorder.all('message')).toMatchObject([
      { kind: 'encrypted', text: 'before', key: 'current' },
      { kind: 'encrypted', text: 'in flight', key: 'previous' },
      { kind: 'encrypted', text: 'after', key: 'current' },
      { kind: 'encrypted', text: 'sealed with the new key', key: 'current', own: true },
    ]);
    expect(recorder.all('keyChanged')).toHaveLength(1);
  });

  it('after the grace period the old key no longer opens anything', async () => {
    const oldKey = newRoomKey();
    const newKey = newRoomKey();
    const { client, recorder } = await clientFor(
      async (connection) => {
        const handshake = await acceptJoin(connection, oldKey);
        connection.send({
          type: 'key_exchange',
          encrypted_key: wrapRoomKey(newKey, String(handshake.public_key)),
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const late = sealText(new Fernet(oldKey), 'too late');
        connection.send({ type: 'message', sender: 'bob', message: late, encrypted: true });
      },
      { keyGraceMs: 20 },
    );
    await client.connect();
    expect(await recorder.waitFor('message')).toMatchObject({ kind: 'undecryptable' });
  });

  it('a key_exchange it cannot open fails the join with ECP_INVALID_KEY', async () => {
    const { client, recorder } = await clientFor(async (connection) => {
      await connection.next();
      connection.send({ type: 'key_exchange', encrypted_key: 'bm90IGEga2V5' });
      connection.send({ type: 'user_list', users: ['alice'] });
    });
    await expect(client.connect()).rejects.toMatchObject({
      code: 'ECP_INVALID_KEY',
      detail: 'ECP_DECRYPT_FAILED',
    });
    expect((await recorder.waitFor('closed')).error?.code).toBe('ECP_INVALID_KEY');
    expect(recorder.all('joined')).toEqual([]);
  });

  it('a key_exchange it cannot open mid-session closes with ECP_INVALID_KEY', async () => {
    const { client, recorder } = await clientFor(async (connection) => {
      const handshake = await acceptJoin(connection, newRoomKey());
      // A key wrapped for somebody else's public key.
      const stranger = await keyPair(1);
      expect(handshake.public_key).not.toBe(stranger.publicKeyPem);
      connection.send({ type: 'key_exchange', encrypted_key: wrapRoomKey(newRoomKey(), stranger.publicKey) });
    });
    await client.connect();
    const closed = await recorder.waitFor('closed');
    expect(closed).toMatchObject({ byClient: false, error: { code: 'ECP_INVALID_KEY' } });
  });

  it('the prototype notice that our key was unusable fails the join with ECP_INVALID_KEY', async () => {
    const { client } = await clientFor(async (connection) => {
      const handshake = await connection.next();
      connection.send({ type: 'system', message: notices.welcome(String(handshake.username)) });
      connection.send({ type: 'system', message: notices.keyFailed });
    });
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECP_INVALID_KEY' });
  });

  it('a server that never answers times out with ECP_TIMEOUT', async () => {
    const { client, recorder } = await clientFor(() => {}, { timeoutMs: 300 });
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECP_TIMEOUT' });
    expect((await recorder.waitFor('closed')).error?.code).toBe('ECP_TIMEOUT');
  });

  it('a server that hangs up before the join rejects with ECP_CONNECTION_LOST', async () => {
    const { client } = await clientFor(async (connection) => {
      await connection.next();
      connection.end();
    });
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECP_CONNECTION_LOST' });
  });

  it('a server that hangs up after the join gives a closed event with ECP_CONNECTION_LOST', async () => {
    const { client, recorder } = await clientFor(async (connection) => {
      await acceptJoin(connection, newRoomKey());
      connection.destroy();
    });
    await client.connect();
    const closed = await recorder.waitFor('closed');
    expect(closed).toMatchObject({ byClient: false, error: { code: 'ECP_CONNECTION_LOST' } });
    expect(recorder.all('closed')).toHaveLength(1);
  });

  it('close() while joining rejects the join; close() after joining ends cleanly', async () => {
    const { client, recorder } = await clientFor(() => {});
    const joining = client.connect().catch((error: unknown) => error);
    await server!.accepted(0);
    await client.close();
    expect(await joining).toMatchObject({ code: 'ECP_CONNECTION_LOST' });
    expect((await recorder.waitFor('closed')).byClient).toBe(true);

    const second = await clientFor(async (connection) => {
      await acceptJoin(connection, newRoomKey());
    });
    await second.client.connect();
    await second.client.close();
    expect(await second.recorder.waitFor('closed')).toMatchObject({
      reason: 'closed by client',
      byClient: true,
      error: undefined,
    });
    await second.client.close();
    expect(second.recorder.all('closed')).toHaveLength(1);
  });

  it('an unreachable server rejects with ECP_CONNECTION_FAILED', async () => {
    const port = await unusedPort();
    const client = new EcpClient({
      host: '127.0.0.1',
      port,
      username: 'a',
      password: 'p',
      keyPair: await keyPair(0),
    });
    const recorder = new EventRecorder(client);
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECP_CONNECTION_FAILED' });
    expect((await recorder.waitFor('closed')).error?.code).toBe('ECP_CONNECTION_FAILED');
  });

  it('reads JSON written the way the Python prototype writes it', async () => {
    const roomKey = newRoomKey();
    const { client, recorder } = await clientFor(async (connection) => {
      const handshake = await connection.next();
      const line = (message: object) => connection.sendRaw(`${pythonJson(message)}\r\n`);
      line({ type: 'system', message: notices.welcome('zoë') });
      line({ type: 'key_exchange', encrypted_key: wrapRoomKey(roomKey, String(handshake.public_key)) });
      line({ type: 'user_list', users: ['zoë', '日本', 'alice'] });
      line({ type: 'message', sender: '😀', message: sealText(new Fernet(roomKey), 'ok'), encrypted: true });
    });
    expect((await client.connect()).users).toEqual(['zoë', '日本', 'alice']);
    expect(await recorder.waitFor('message')).toMatchObject({ sender: '😀', text: 'ok' });
    expect(recorder.all('system')[0]!.text).toBe('Welcome zoë! Establishing secure connection...');
  });
});

async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
