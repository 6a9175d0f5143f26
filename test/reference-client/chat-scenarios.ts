/**
 * The chat scenarios every v1 server must pass with the reference client, run against the
 * prototype-like room and against the in-process reference server (MQTT.js's abstract_client idea).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateRsaKeyPair, type RsaKeyPair } from '../../protocol/index.ts';
import { type ChatMessage, ClientError, EcpClient } from '../../reference-client/index.ts';
import { EventRecorder } from './event-recorder.ts';

export interface ChatTarget {
  port: number;
  password: string;
  close(): Promise<void>;
}

// RSA key generation is the slow part of a join; a few pairs shared by all scenarios keep tests quick.
const keyPairs: Promise<RsaKeyPair>[] = [];
export function keyPair(index: number): Promise<RsaKeyPair> {
  keyPairs[index] ??= generateRsaKeyPair();
  return keyPairs[index]!;
}

export function describeChatScenarios(name: string, start: () => Promise<ChatTarget>): void {
  describe(`reference client against ${name}`, () => {
    let target: ChatTarget;
    let clients: EcpClient[];

    beforeEach(async () => {
      target = await start();
      clients = [];
    });
    afterEach(async () => {
      await Promise.all(clients.map((client) => client.close()));
      await target.close();
    });

    async function join(username: string, index: number, password = target.password) {
      const client = new EcpClient({
        host: '127.0.0.1',
        port: target.port,
        username,
        password,
        timeoutMs: 5_000,
        keyPair: await keyPair(index),
      });
      clients.push(client);
      const recorder = new EventRecorder(client);
      return { client, recorder, joined: client.connect() };
    }

    const text = (message: ChatMessage) => (message.kind === 'undecryptable' ? undefined : message.text);

    it('two clients chat; each decrypts the other and its own echo', async () => {
      const alice = await join('alice', 0);
      expect(await alice.joined).toEqual({ username: 'alice', users: ['alice'] });
      const bob = await join('bob', 1);
      expect((await bob.joined).users).toEqual(['alice', 'bob']);
      const change = await alice.recorder.waitFor('users', (e) => e.users.length === 2);
      expect(change.joined).toEqual(['bob']);
      await alice.recorder.waitFor('system', (e) => e.text === 'bob has joined the chat');

      alice.client.send('hello bob — ünïcødé ✓');
      const atBob = await bob.recorder.waitFor('message');
      expect(atBob).toMatchObject({ kind: 'encrypted', sender: 'alice', own: false, key: 'current' });
      expect(text(atBob)).toBe('hello bob — ünïcødé ✓');
      const echo = await alice.recorder.waitFor('message');
      expect(echo).toMatchObject({
        kind: 'encrypted',
        sender: 'alice',
        own: true,
        text: 'hello bob — ünïcødé ✓',
      });

      bob.client.send('hi alice');
      expect(text(await alice.recorder.waitFor('message', (m) => m.sender === 'bob'))).toBe('hi alice');
    });

    it('three clients chat and every member decrypts every message', async () => {
      const names = ['alice', 'bob', 'carol'];
      const members = [];
      for (const [index, username] of names.entries()) {
        const member = await join(username, index);
        await member.joined;
        members.push(member);
      }
      await members[0]!.recorder.waitFor('users', (e) => e.users.length === 3);
      for (const member of members) member.client.send(`from ${member.client.username}`);
      for (const member of members) {
        for (const username of names) {
          const message = await member.recorder.waitFor('message', (m) => m.sender === username);
          expect(message.kind).toBe('encrypted');
          expect(text(message)).toBe(`from ${username}`);
        }
      }
      await members[2]!.client.close();
      const change = await members[0]!.recorder.waitFor('users', (e) => e.left.length > 0);
      expect(change).toMatchObject({ users: ['alice', 'bob'], left: ['carol'] });
      await members[0]!.recorder.waitFor('system', (e) => e.text === 'carol has left the chat');
    });

    it('a wrong password rejects with ECP_AUTH_FAILED and closes', async () => {
      const eve = await join('eve', 0, 'not-the-password');
      const error = await eve.joined.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientError);
      expect(error).toMatchObject({ code: 'ECP_AUTH_FAILED', serverMessage: 'Invalid server password' });
      const closed = await eve.recorder.waitFor('closed');
      expect(closed.error?.code).toBe('ECP_AUTH_FAILED');
      expect(eve.client.state).toBe('closed');
    });

    it('a taken name rejects with ECP_USERNAME_TAKEN and the client closes the connection', async () => {
      const first = await join('alice', 0);
      await first.joined;
      const second = await join('alice', 1);
      const error = await second.joined.catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ECP_USERNAME_TAKEN', serverMessage: 'Username already taken' });
      await second.recorder.waitFor('closed');
      // The first alice is unaffected and still alone in the room.
      first.client.send('still here');
      expect(text(await first.recorder.waitFor('message'))).toBe('still here');
      expect(first.recorder.all('users')).toEqual([]);
    });

    it('server shutdown: members get the notice and a closed event with its reason', async () => {
      const alice = await join('alice', 0);
      await alice.joined;
      await target.close();
      const closed = await alice.recorder.waitFor('closed');
      expect(closed).toMatchObject({ reason: 'Server is shutting down', byClient: false, error: undefined });
      expect(alice.recorder.all('system').map((e) => e.text)).toContain('Server is shutting down');
      expect(() => alice.client.send('too late')).toThrow(
        expect.objectContaining({ code: 'ECP_NOT_JOINED' }),
      );
    });
  });
}
