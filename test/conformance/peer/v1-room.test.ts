/**
 * The ready-made v1 room, played to raw clients: the prototype's join, relay and leave sequences,
 * its refusals, its JSON, a new room key, and a delivery hook that stages what a relay does.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptJoin,
  connectPeer,
  type Delivery,
  type PeerConnection,
  type RunningRoom,
  startPeer,
  startV1Room,
} from '../../../conformance/peer/index.ts';
import {
  authErrors,
  generateRsaKeyPair,
  notices,
  type RsaKeyPair,
  unwrapRoomKey,
} from '../../../protocol/index.ts';

const PASSWORD = 'secret123';
let keys: RsaKeyPair[];
let running: RunningRoom | undefined;
const clients: PeerConnection[] = [];

beforeAll(async () => {
  keys = await Promise.all([1, 2].map(() => generateRsaKeyPair(2048)));
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await running?.close();
  running = undefined;
});

async function client(): Promise<PeerConnection> {
  const connection = await connectPeer(running!.url);
  clients.push(connection);
  return connection;
}

function handshake(connection: PeerConnection, username: string, key: RsaKeyPair, password = PASSWORD): void {
  connection.send({ type: 'handshake', username, server_password: password, public_key: key.publicKeyPem });
}

const system = (message: string) => ({ type: 'system', message });
const userList = (...users: string[]) => ({ type: 'user_list', users });

describe('a v1 room', () => {
  it('joins, announces, relays to the others then echoes, and announces a leave', async () => {
    running = await startV1Room({ password: PASSWORD });
    const alice = await client();
    handshake(alice, 'alice', keys[0]!);
    const [welcome, keyExchange, secured, list] = await alice.nextN(4);
    expect(welcome).toEqual(system(notices.welcome('alice')));
    expect(unwrapRoomKey(keyExchange!.encrypted_key, keys[0]!.privateKey)).toBe(running.room.roomKey);
    expect(secured).toEqual(system(notices.secured));
    expect(list).toEqual(userList('alice'));

    const bob = await client();
    handshake(bob, 'bob', keys[1]!);
    expect((await bob.nextN(4))[3]).toEqual(userList('alice', 'bob'));
    expect(await alice.nextN(2)).toEqual([userList('alice', 'bob'), system(notices.joined('bob'))]);

    bob.send({ type: 'message', message: 'token', encrypted: true, sender: 'mallory' });
    const relayed = { type: 'message', sender: 'bob', message: 'token', encrypted: true };
    expect(await alice.next()).toEqual(relayed);
    expect(await bob.next()).toEqual(relayed);

    bob.end();
    expect(await alice.nextN(2)).toEqual([userList('alice'), system(notices.left('bob'))]);
  });

  it('writes JSON as Python does', async () => {
    running = await startV1Room({ password: PASSWORD });
    const zoe = await connectPeer(running.url, { exactFraming: true });
    clients.push(zoe);
    const lines: string[] = [];
    zoe.connection.on('message', (text) => lines.push(text));
    handshake(zoe, 'zoë', keys[0]!);
    await zoe.nextN(4);
    expect(lines[0]).toBe(
      '{"type": "system", "message": "Welcome zo\\u00eb! Establishing secure connection..."}',
    );
  });

  it('answers a taken name with a notice on a connection that stays open, a wrong password with auth_error and a close', async () => {
    running = await startV1Room({ password: PASSWORD });
    const alice = await client();
    handshake(alice, 'alice', keys[0]!);
    await alice.nextN(4);
    const again = await client();
    handshake(again, 'alice', keys[1]!);
    expect(await again.next()).toEqual(system(notices.usernameTaken));
    handshake(again, 'alicia', keys[1]!);
    expect(await again.next()).toEqual(system(notices.welcome('alicia')));

    const wrong = await client();
    handshake(wrong, 'eve', keys[1]!, 'guess');
    expect(await wrong.next()).toEqual({ type: 'auth_error', message: authErrors.invalidPassword });
    await wrong.closed();
  });

  it('sends every member a new key on rotateKey, and the shutdown notice on close', async () => {
    running = await startV1Room({ password: PASSWORD });
    const alice = await client();
    handshake(alice, 'alice', keys[0]!);
    await alice.nextN(4);
    const newKey = running.room.rotateKey();
    const exchange = await alice.next();
    expect(unwrapRoomKey(exchange.encrypted_key, keys[0]!.privateKey)).toBe(newKey);
    await running.close();
    running = undefined;
    expect(await alice.next()).toEqual(system(notices.shuttingDown));
    await alice.closed();
  });

  it('hands each relayed line to the delivery hook, in v1 order', async () => {
    const deliveries: Array<[string, string, number]> = [];
    running = await startV1Room({
      password: PASSWORD,
      encode: JSON.stringify,
      deliver: ({ sender, recipient, text }: Delivery) => {
        deliveries.push([sender.name, recipient.name, recipient.order]);
        if (recipient !== sender) recipient.connection.sendLine(text);
      },
    });
    const alice = await client();
    handshake(alice, 'alice', keys[0]!);
    await alice.nextN(4);
    const bob = await client();
    handshake(bob, 'bob', keys[1]!);
    await bob.nextN(4);
    await alice.nextN(2);
    alice.send({ type: 'message', message: 'hi', encrypted: false });
    expect(await bob.next()).toEqual({ type: 'message', sender: 'alice', message: 'hi', encrypted: false });
    await alice.expectSilence(50);
    expect(deliveries).toEqual([
      ['alice', 'bob', 1],
      ['alice', 'alice', 0],
    ]);
  });
});

describe('acceptJoin', () => {
  it('plays one successful join on a scripted connection', async () => {
    const peer = await startPeer((connection) => acceptJoin(connection, 'room-key-is-not-checked', ['bob']));
    try {
      const alice = await connectPeer(peer.url);
      clients.push(alice);
      handshake(alice, 'alice', keys[0]!);
      const [welcome, , , list] = await alice.nextN(4);
      expect(welcome).toEqual(system(notices.welcome('alice')));
      expect(list).toEqual(userList('bob'));
    } finally {
      await peer.close();
    }
  });
});
