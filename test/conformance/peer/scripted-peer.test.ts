/**
 * The scripted peer on every transport: a script per accepted connection, messages both ways,
 * expectations with their timeouts, the ends (graceful, abrupt) and what a script's failure does.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectPeer,
  type PeerConnection,
  type ScriptedPeer,
  startPeer,
} from '../../../conformance/peer/index.ts';
import { type DevCertificate, makeDevCertificate } from '../../../server-under-test/index.ts';
import type { TransportName } from '../../../transport/index.ts';

let certificate: DevCertificate;
const peers: ScriptedPeer[] = [];
const clients: PeerConnection[] = [];

beforeAll(async () => {
  certificate = await makeDevCertificate();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

async function pair(
  transport: TransportName,
  script: (connection: PeerConnection) => unknown,
): Promise<{ peer: ScriptedPeer; client: PeerConnection }> {
  const path = transport === 'ws' || transport === 'wss' ? '/ecp' : '';
  const peer = await startPeer(script, {
    listen: `${transport}://127.0.0.1:0${path}`,
    tls: certificate,
  });
  peers.push(peer);
  const client = await connectPeer(peer.url, { ca: certificate.cert, timeoutMs: 3000 });
  clients.push(client);
  return { peer, client };
}

describe.each(['tcp', 'tls', 'ws', 'wss'] as const)('on %s', (transport) => {
  it('runs the script per connection: messages both ways, expect skipping what does not match', async () => {
    const { peer, client } = await pair(transport, async (connection) => {
      const hello = await connection.expect((message) => message.type === 'hello');
      connection.send({ type: 'answer', to: hello.n });
      connection.sendLine('not json');
    });
    expect(peer.url).toBe(`${transport}://127.0.0.1:${peer.port}${peer.endpoint.path}`);
    client.send({ type: 'noise' });
    client.send({ type: 'hello', n: 7 });
    expect(await client.next()).toEqual({ type: 'answer', to: 7 });
    expect(await client.next()).toEqual({ notJson: 'not json' });
    const accepted = await peer.accepted(0);
    expect(accepted.received).toEqual([{ type: 'noise' }, { type: 'hello', n: 7 }]);
    expect(accepted.unread()).toEqual([]);
  });

  it('times out an expectation, and fails it when the connection closes first', async () => {
    const { peer, client } = await pair(transport, () => {});
    await expect(client.next(50)).rejects.toMatchObject({ code: 'ECP_PEER_TIMEOUT' });
    await client.expectSilence(20);
    const waiting = client.expect(() => true, 5000);
    (await peer.accepted(0)).end();
    await expect(waiting).rejects.toMatchObject({ code: 'ECP_PEER_CLOSED' });
    await client.closed();
    expect(client.isClosed).toBe(true);
  });

  it('drops a connection whose script fails, and keeps the error', async () => {
    const { peer, client } = await pair(transport, () => {
      throw new Error('script broke');
    });
    await client.closed();
    expect(peer.scriptErrors).toEqual([new Error('script broke')]);
  });

  it('hands a script every message in turn until the connection closes', async () => {
    const seen: unknown[] = [];
    const { peer, client } = await pair(transport, async (connection) => {
      for await (const message of connection.messages()) seen.push(message.n);
    });
    for (const n of [1, 2, 3]) client.send({ n });
    client.end();
    await (await peer.accepted(0)).whenClosed;
    await client.closed();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('writes raw bytes as they are', async () => {
    const { client } = await pair(transport, (connection) => connection.sendRaw('{"raw": true}\n'));
    expect(await client.next()).toEqual({ raw: true });
  });
});

describe.each(['tcp', 'tls'] as const)('on the byte stream %s', (transport) => {
  it('splits a line at the given byte offsets, even inside a character', async () => {
    const line = Buffer.from('{"text": "zoë"}\n');
    const { peer, client } = await pair(transport, (connection) =>
      connection.sendSplit(line, [1, 13, 14], 5),
    );
    expect(await client.next()).toEqual({ text: 'zoë' });
    expect(peer.scriptErrors).toEqual([]);
  });

  it('reports bytes that are not UTF-8 as framing errors, not messages', async () => {
    const { peer } = await pair(transport, () => {});
    const client = clients[0]!;
    client.sendRaw(Buffer.from([0xff, 0xfe, 0x0a]));
    client.send({ after: 1 });
    const accepted = await peer.accepted(0);
    expect(await accepted.next()).toEqual({ after: 1 });
    expect(accepted.framingErrors.map((error) => error.code)).toEqual(['ECP_INVALID_UTF8']);
  });
});

describe.each(['ws', 'wss'] as const)('on the message transport %s', (transport) => {
  it('refuses to split a message across writes, with a clear error', async () => {
    const { peer } = await pair(transport, (connection) => connection.sendSplit('{}\n', [1]));
    await expect(peer.accepted(0).then((connection) => connection.whenClosed)).resolves.toBeDefined();
    expect(peer.scriptErrors).toMatchObject([{ code: 'ECP_PEER_UNSUPPORTED' }]);
  });
});

describe('ends and reading', () => {
  it('resets a TCP connection abruptly', async () => {
    const { client } = await pair('tcp', async (connection) => {
      await connection.next();
      connection.reset();
    });
    client.send({ type: 'go' });
    const info = await client.whenClosed;
    expect(info.error?.code).toBe('ECONNRESET');
  });

  it('stops reading while paused, and reads what waited on resume', async () => {
    const { peer, client } = await pair('tcp', () => {});
    const accepted = await peer.accepted(0);
    accepted.pause();
    client.send({ n: 1 });
    await accepted.expectSilence(100);
    accepted.resume();
    expect(await accepted.next()).toEqual({ n: 1 });
  });

  it('reads at a given pace and gets everything', async () => {
    const { peer, client } = await pair('tcp', () => {});
    const accepted = await peer.accepted(0);
    accepted.readAtMost(1_000_000);
    const pad = 'x'.repeat(10_000);
    for (let n = 0; n < 20; n++) client.send({ n, pad });
    const got = await accepted.nextN(20);
    expect(got.map((message) => message.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });

  it('keeps a record of connections refused below ECP', async () => {
    const peer = await startPeer(() => {}, { listen: 'tls://127.0.0.1:0', tls: certificate });
    peers.push(peer);
    const plain = await connectPeer(`tcp://127.0.0.1:${peer.port}`);
    clients.push(plain);
    plain.send({ type: 'handshake' });
    await plain.closed();
    expect(peer.rejected).toMatchObject([{ transport: 'tls', reason: 'not_tls' }]);
    expect(peer.connections).toEqual([]);
  });

  it('waits for a connection it has not accepted yet, and gives up in time', async () => {
    const peer = await startPeer(() => {});
    peers.push(peer);
    await expect(peer.accepted(0, 50)).rejects.toMatchObject({ code: 'ECP_PEER_TIMEOUT' });
    const waiting = peer.accepted(0);
    clients.push(await connectPeer(peer.url));
    await expect(waiting).resolves.toBe(peer.connections[0]);
  });
});
