/**
 * The transport seam, one suite for every transport (as MQTT.js runs one client suite per
 * transport): messages both ways, batches, pause and pending output, closing; then what goes wrong
 * below ECP on each, and the precise error a client gets for it.
 */
import { once } from 'node:events';
import { connect as netConnect } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DevCertificate, makeDevCertificate } from '../../server-under-test/index.ts';
import {
  type Connection,
  connect,
  fastReceive,
  type Listener,
  type ListenOptions,
  listen,
  type RejectedConnection,
  rawAccess,
  type TransportName,
} from '../../transport/index.ts';

let certificate: DevCertificate;
const listeners: Listener[] = [];
const connections: Connection[] = [];

beforeAll(async () => {
  certificate = await makeDevCertificate();
});

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.destroy();
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

interface Served {
  url: string;
  accepted: Connection[];
  rejected: RejectedConnection[];
  next(): Promise<Connection>;
}

async function serve(transport: TransportName, options: Partial<ListenOptions> = {}): Promise<Served> {
  const accepted: Connection[] = [];
  const rejected: RejectedConnection[] = [];
  const waiting: ((connection: Connection) => void)[] = [];
  const path = transport === 'ws' || transport === 'wss' ? '/ecp' : '';
  const listener = await listen(
    `${transport}://127.0.0.1:0${path}`,
    {
      maxMessageBytes: 1024,
      handshakeTimeoutMs: 2000,
      tls: certificate,
      onRejected: (item) => rejected.push(item),
      ...options,
    },
    (connection) => {
      accepted.push(connection);
      connections.push(connection);
      const waiter = waiting.shift();
      if (waiter) waiter(connection);
    },
  );
  listeners.push(listener);
  return {
    url: `${transport}://127.0.0.1:${listener.port}${path}`,
    accepted,
    rejected,
    next: () =>
      accepted.length > waiting.length
        ? Promise.resolve(accepted[accepted.length - 1]!)
        : new Promise((resolve) => waiting.push(resolve)),
  };
}

async function open(url: string, options: Parameters<typeof connect>[1] = {}): Promise<Connection> {
  const connection = await connect(url, { ca: certificate.cert, timeoutMs: 3000, ...options });
  connections.push(connection);
  return connection;
}

function nextMessage(connection: Connection): Promise<string> {
  return once(connection, 'message').then(([text]) => text as string);
}

describe.each(['tcp', 'tls', 'ws', 'wss'] as const)('over %s', (transport) => {
  it('carries messages both ways, without their framing, and names the peer', async () => {
    const served = await serve(transport);
    const client = await open(served.url);
    const server = await served.next();
    expect(client.transport).toBe(transport);
    expect(server.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    const atServer = nextMessage(server);
    client.send('{"type":"handshake"}\n');
    expect(await atServer).toBe('{"type":"handshake"}');
    const atClient: string[] = [];
    client.on('message', (text) => atClient.push(text));
    server.sendBatch([Buffer.from('{"n":1}\n'), Buffer.from('{"n":2}\n'), Buffer.from('{"n":3}\n')], 24);
    await expect.poll(() => atClient).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    if (transport === 'ws' || transport === 'wss') expect(client.subprotocol).toBe('ecp.v1');
  });

  it('offers raw access and a fast receive path beside the core', async () => {
    const served = await serve(transport);
    const client = await open(served.url);
    const server = await served.next();
    const received: string[] = [];
    let reads = 0;
    fastReceive(server).receiveInto({
      message: (bytes, start, end) => received.push(bytes.toString('utf8', start, end)),
      readDone: () => reads++,
    });
    const raw = rawAccess(client);
    if (raw.kind === 'bytes') {
      expect(transport === 'tcp' || transport === 'tls').toBe(true);
      raw.write(Buffer.from('{"n":'));
      raw.write(Buffer.from('1}\n'));
    } else {
      expect(transport === 'ws' || transport === 'wss').toBe(true);
      raw.send('{"n":1}', { binary: false });
    }
    await expect.poll(() => received).toEqual(['{"n":1}']);
    expect(reads).toBeGreaterThan(0);
  });

  it('reports a message over the limit as a framing error, and goes on after it on a byte stream', async () => {
    const served = await serve(transport);
    const client = await open(served.url);
    const server = await served.next();
    const errors: string[] = [];
    server.on('framingError', (error, closing) => errors.push(`${error.code} ${closing}`));
    const messages: string[] = [];
    server.on('message', (text) => messages.push(text));
    client.send(`"${'x'.repeat(2000)}"\n`);
    client.send('"after"\n');
    if (transport === 'tcp' || transport === 'tls') {
      await expect.poll(() => messages).toEqual(['"after"']);
      expect(errors).toEqual(['ECP_LINE_TOO_LONG false']);
    } else {
      // WebSocket closes with 1009 (the transport's own answer).
      const [info] = (await once(client, 'close')) as [{ closeCode: number }];
      expect(info.closeCode).toBe(1009);
      expect(errors).toEqual(['ECP_LINE_TOO_LONG true']);
    }
  });

  it('keeps output pending while the peer does not read, and drains it once the peer reads again', async () => {
    const served = await serve(transport);
    const client = await open(served.url);
    const server = await served.next();
    client.pause();
    expect(client.paused).toBe(true);
    const line = Buffer.from(`"${'y'.repeat(900)}"\n`);
    // Past the socket's high-water mark, so that it reports 'drain' once the output is gone.
    for (let i = 0; i < 50_000 && server.pendingOutputBytes < 256 * 1024; i++) server.send(line);
    expect(server.pendingOutputBytes).toBeGreaterThan(0);
    let received = 0;
    client.on('message', () => received++);
    client.resume();
    await once(server, 'drain');
    expect(server.pendingOutputBytes).toBe(0);
    // The kernel's buffers may hold it all for a while: the reader gets it in its own time.
    await expect.poll(() => received).toBeGreaterThan(0);
  });

  it('ends gracefully: what was sent arrives, then the close', async () => {
    const served = await serve(transport);
    const client = await open(served.url);
    const server = await served.next();
    const seen: string[] = [];
    client.on('message', (text) => seen.push(text));
    const closed = once(client, 'close');
    server.send('{"last":true}\n');
    server.end('going_away');
    const [info] = (await closed) as [{ closeCode: number | undefined }];
    expect(seen).toEqual(['{"last":true}']);
    if (transport === 'ws' || transport === 'wss') expect(info.closeCode).toBe(1001);
  });

  it('delivers what a server sends at once, before the caller has listened', async () => {
    const served = await serve(transport);
    const pending = open(served.url);
    const server = await served.next();
    server.send('{"first":"words"}\n');
    server.end();
    const client = await pending;
    // Listeners attached only now, after connect() resolved.
    const text = await nextMessage(client);
    expect(text).toBe('{"first":"words"}');
  });
});

describe('what goes wrong below ECP, and what each side says', () => {
  it('refuses a URL it cannot use', async () => {
    await expect(connect('http://127.0.0.1:1/ecp')).rejects.toMatchObject({
      code: 'ECP_BAD_ENDPOINT',
      message: expect.stringContaining('ws://'),
    });
  });

  it('says when nothing listens', async () => {
    const served = await serve('tcp');
    const port = Number(served.url.split(':').at(-1));
    await listeners.pop()!.close();
    await expect(connect(`tcp://127.0.0.1:${port}`)).rejects.toMatchObject({
      code: 'ECP_CONNECT_FAILED',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('does not trust a certificate it was not told to, and says how to', async () => {
    const served = await serve('tls');
    await expect(connect(served.url, { timeoutMs: 3000 })).rejects.toMatchObject({
      code: 'ECP_TLS_FAILED',
      message: expect.stringMatching(/self-signed.*--ca FILE.*--insecure/),
    });
    const insecure = await connect(served.url, { insecure: true });
    connections.push(insecure);
    expect(insecure.transport).toBe('tls');
  });

  it('refuses an expired certificate and one for another host', async () => {
    const expired = await makeDevCertificate({
      notBefore: new Date(Date.now() - 3 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const old = await serve('tls', { tls: expired });
    await expect(connect(old.url, { ca: expired.cert })).rejects.toMatchObject({
      code: 'ECP_TLS_FAILED',
      message: expect.stringContaining('expired'),
    });
    const elsewhere = await makeDevCertificate({ hosts: ['chat.example.org'] });
    const wrongHost = await serve('wss', { tls: elsewhere });
    await expect(connect(wrongHost.url, { ca: elsewhere.cert })).rejects.toMatchObject({
      code: 'ECP_TLS_FAILED',
      message: expect.stringContaining('does not name this host'),
    });
  });

  it('a TLS client on a plain port fails at once; the server logs it and serves others', async () => {
    const served = await serve('tcp');
    const port = served.url.split(':').at(-1);
    await expect(connect(`tls://127.0.0.1:${port}`, { timeoutMs: 3000 })).rejects.toMatchObject({
      code: 'ECP_TLS_FAILED',
    });
    const errors: string[] = [];
    (await served.next()).on('framingError', (error) => errors.push(error.code));
    await expect.poll(() => served.accepted[0]?.writable).toBe(false);
    const fine = await open(served.url);
    expect(fine.writable).toBe(true);
  });

  it('a WebSocket client on a plain port gets an HTTP 400 that names the transport', async () => {
    const served = await serve('tcp');
    const port = served.url.split(':').at(-1);
    await expect(connect(`ws://127.0.0.1:${port}/ecp`)).rejects.toMatchObject({
      code: 'ECP_UPGRADE_FAILED',
      message: expect.stringContaining('HTTP 400 Bad Request: This port speaks ECP over tcp://'),
    });
  });

  it('a plain client on a TLS or WebSocket port gets an auth_error line it can read', async () => {
    for (const transport of ['tls', 'ws', 'wss'] as const) {
      const served = await serve(transport);
      const port = served.url.split(':')[2]!.replace('/ecp', '');
      const plain = await open(`tcp://127.0.0.1:${port}`);
      const answer = nextMessage(plain);
      plain.send('{"type":"handshake"}\n');
      expect(JSON.parse(await answer)).toEqual({
        type: 'auth_error',
        message: `This port speaks ECP over ${transport}://; connect with ${transport}://`,
      });
      await expect.poll(() => served.rejected.map((item) => item.reason)).toHaveLength(1);
    }
  });

  it('refuses an upgrade on another path (404) or with a bad version (400), and logs both', async () => {
    const served = await serve('ws');
    await expect(connect(served.url.replace('/ecp', '/other'))).rejects.toMatchObject({
      code: 'ECP_UPGRADE_FAILED',
      message: expect.stringContaining('HTTP 404'),
    });
    const port = Number(served.url.split(':')[2]!.replace('/ecp', ''));
    const socket = netConnect(port, '127.0.0.1');
    socket.write(
      'GET /ecp HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: bm90IGEga2V5\r\nSec-WebSocket-Version: 7\r\n\r\n',
    );
    let reply = '';
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
    });
    await once(socket, 'close');
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(served.rejected.map((item) => item.reason)).toEqual(['wrong_path', 'bad_upgrade']);
  });

  it('closes a WebSocket that stops answering pings', async () => {
    const served = await serve('ws', { pingIntervalMs: 100 });
    const { WebSocket } = await import('ws');
    const silent = new WebSocket(served.url, ['ecp.v1'], { autoPong: false });
    await once(silent, 'open');
    const [code] = (await once(silent, 'close')) as [number];
    expect(code).toBe(1006);
    const server = served.accepted[0]!;
    expect(server.writable).toBe(false);
  });
});
