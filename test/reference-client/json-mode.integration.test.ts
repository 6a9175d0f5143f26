/**
 * `ecp client --json` as a child process against the in-process reference server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acceptJoin, startPeer } from '../../conformance/peer/index.ts';
import { Fernet } from '../../protocol/index.ts';
import { EcpClient } from '../../reference-client/index.ts';
import { startServer } from '../../reference-server/index.ts';
import { onlyOnce } from '../support/waiting.ts';
import { keyPair } from './chat-scenarios.ts';
import { CliProcess } from './cli-process.ts';
import { EventRecorder } from './event-recorder.ts';

const PASSWORD = 'secret123';

describe('ecp client --json', () => {
  let port: number;
  let closeServer: () => Promise<void>;
  const clients: EcpClient[] = [];

  beforeEach(async () => {
    const server = await startServer({ host: '127.0.0.1', port: 0, password: PASSWORD, logLevel: 'silent' });
    port = server.port;
    closeServer = onlyOnce(() => server.close());
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await closeServer();
  });

  const jsonClient = (username: string, env: Record<string, string> = { ECP_PASSWORD: PASSWORD }) =>
    new CliProcess(['client', '--json', '--host', '127.0.0.1', '--port', String(port), '-u', username], {
      env,
    });

  async function member(username: string) {
    const client = new EcpClient({
      host: '127.0.0.1',
      port,
      username,
      password: PASSWORD,
      keyPair: await keyPair(1),
    });
    clients.push(client);
    const recorder = new EventRecorder(client);
    await client.connect();
    return { client, recorder };
  }

  it('sends each stdin line, reports every event as a JSON line, and exits 0 once all are echoed', async () => {
    const bob = await member('bob');
    const cli = jsonClient('script');
    cli.write('first line\n\nsecond — ✓\r\n');
    cli.endInput();
    expect(await cli.exitCode()).toBe(0);

    const events = cli.jsonLines();
    expect(events.map((e) => e.event)).toEqual([
      'system',
      'system',
      'joined',
      'message',
      'message',
      'closed',
    ]);
    expect(events[2]).toMatchObject({ event: 'joined', username: 'script', users: ['bob', 'script'] });
    expect(events[3]).toMatchObject({ sender: 'script', own: true, encrypted: true, text: 'first line' });
    expect(events[4]).toMatchObject({ sender: 'script', own: true, encrypted: true, text: 'second — ✓' });
    expect(events[5]).toMatchObject({
      event: 'closed',
      reason: 'closed by client',
      by_client: true,
      code: null,
    });
    for (const event of events) expect(Date.parse(String(event.time))).not.toBeNaN();

    await bob.recorder.waitFor(
      'message',
      (m) => m.sender === 'script' && m.kind === 'encrypted' && m.text === 'second — ✓',
    );
    expect(bob.recorder.all('message').map((m) => m.kind === 'encrypted' && m.text)).toEqual([
      'first line',
      'second — ✓',
    ]);
  });

  it('reports what others say while stdin is open', async () => {
    const bob = await member('bob');
    const cli = jsonClient('script');
    await cli.waitForOutput('"event":"joined"');
    bob.client.send('hello script');
    await cli.waitForOutput('hello script');
    await bob.client.close();
    await cli.waitForOutput('"event":"users"');
    cli.endInput();
    expect(await cli.exitCode()).toBe(0);
    const events = cli.jsonLines();
    expect(events).toContainEqual(
      expect.objectContaining({
        event: 'message',
        sender: 'bob',
        own: false,
        encrypted: true,
        text: 'hello script',
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'users', users: ['script'], left: ['bob'] }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'system', text: 'bob has left the chat' }),
    );
  });

  it('exits 1 on a wrong password, with an error event', async () => {
    const cli = jsonClient('script', { ECP_PASSWORD: 'wrong' });
    cli.endInput();
    expect(await cli.exitCode()).toBe(1);
    expect(cli.jsonLines()).toEqual([
      expect.objectContaining({ event: 'error', code: 'ECP_AUTH_FAILED', fatal: true }),
      expect.objectContaining({ event: 'closed', code: 'ECP_AUTH_FAILED', by_client: false }),
    ]);
  });

  it('exits 1 when the name is taken', async () => {
    await member('bob');
    const cli = jsonClient('bob');
    cli.endInput();
    expect(await cli.exitCode()).toBe(1);
    expect(cli.jsonLines()).toContainEqual(
      expect.objectContaining({ event: 'error', code: 'ECP_USERNAME_TAKEN' }),
    );
  });

  it('exits 3 when the server shuts down before stdin ends', async () => {
    const cli = jsonClient('script');
    await cli.waitForOutput('"event":"joined"');
    await closeServer();
    expect(await cli.exitCode()).toBe(3);
    const events = cli.jsonLines();
    expect(events.at(-2)).toMatchObject({ event: 'system', text: 'Server is shutting down' });
    expect(events.at(-1)).toMatchObject({
      event: 'closed',
      reason: 'Server is shutting down',
      by_client: false,
    });
  });

  it('exits 3 when nothing listens', async () => {
    await closeServer();
    const cli = jsonClient('script');
    cli.endInput();
    expect(await cli.exitCode()).toBe(3);
    expect(cli.jsonLines()[0]).toMatchObject({ event: 'error', code: 'ECP_CONNECTION_FAILED' });
  });

  it('exits 2 on bad arguments or a missing password, before connecting', async () => {
    const noPassword = jsonClient('script', {});
    noPassword.endInput();
    const badPort = new CliProcess(['client', '--json', '--port', '70000', '-u', 'x', '-p', 'y']);
    const unknown = new CliProcess(['client', '--json', '--frobnicate', '-u', 'x', '-p', 'y']);
    const codes = await Promise.all([noPassword.exitCode(), badPort.exitCode(), unknown.exitCode()]);
    expect(codes).toEqual([2, 2, 2]);
    expect(noPassword.stderr).toContain('--password or ECP_PASSWORD is required');
    expect(badPort.stderr).toContain('--port must be an integer');
    expect(unknown.stderr).toContain('Unknown argument');
  });

  it('survives garbage from a scripted fake server: error events with fatal:false, then exit 0', async () => {
    const roomKey = Fernet.generateKey();
    const fake = await startPeer(async (connection) => {
      await acceptJoin(connection, roomKey);
      connection.sendRaw('not json at all\n{"type": "weather", "sunny": true}\n{"type": "message"}\n');
      connection.send({ type: 'message', sender: 'bob', message: 'in the clear', encrypted: false });
      connection.send({ type: 'message', sender: 'bob', message: 'garbage', encrypted: true });
      // Echo what the client sends, as a server would.
      for (;;) {
        const sent = await connection.next();
        connection.send({
          type: 'message',
          sender: 'script',
          message: sent.message,
          encrypted: sent.encrypted,
        });
      }
    });
    try {
      const cli = new CliProcess(
        ['client', '--json', '--host', '127.0.0.1', '--port', String(fake.port), '-u', 'script'],
        {
          env: { ECP_PASSWORD: PASSWORD },
        },
      );
      await cli.waitForOutput('"event":"joined"');
      cli.write('still works\n');
      cli.endInput();
      expect(await cli.exitCode()).toBe(0);
      const events = cli.jsonLines();
      expect(events.filter((e) => e.event === 'error').map((e) => [e.code, e.detail, e.fatal])).toEqual([
        ['ECP_PROTOCOL_ERROR', 'ECP_INVALID_JSON', false],
        ['ECP_PROTOCOL_ERROR', 'ECP_UNKNOWN_TYPE', false],
        ['ECP_PROTOCOL_ERROR', 'ECP_MISSING_FIELD', false],
      ]);
      expect(events).toContainEqual(
        expect.objectContaining({ event: 'message', sender: 'bob', encrypted: false, text: 'in the clear' }),
      );
      expect(events).toContainEqual(
        expect.objectContaining({
          event: 'message',
          sender: 'bob',
          encrypted: true,
          text: null,
          error: expect.any(String),
        }),
      );
      expect(events).toContainEqual(
        expect.objectContaining({ event: 'message', sender: 'script', own: true, text: 'still works' }),
      );
      expect(events.at(-1)).toMatchObject({ event: 'closed', by_client: true });
    } finally {
      await fake.close();
    }
  });

  it('exits 3 when the echoes do not come back in time', async () => {
    const fake = await startPeer(async (connection) => {
      await acceptJoin(connection, Fernet.generateKey());
    });
    try {
      const cli = new CliProcess(
        [
          'client',
          '--json',
          '--timeout',
          '0.5',
          '--host',
          '127.0.0.1',
          '--port',
          String(fake.port),
          '-u',
          'script',
        ],
        { env: { ECP_PASSWORD: PASSWORD } },
      );
      cli.write('never echoed\n');
      cli.endInput();
      expect(await cli.exitCode()).toBe(3);
      expect(cli.jsonLines()).toContainEqual(
        expect.objectContaining({ event: 'error', code: 'ECP_TIMEOUT', fatal: true }),
      );
    } finally {
      await fake.close();
    }
  });
});
