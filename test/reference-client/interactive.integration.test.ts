/**
 * The interactive client: in-process over plain streams, and end to end in a pseudo-terminal.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcpClient } from '../../reference-client/index.ts';
import { runInteractive } from '../../reference-client/interactive.ts';
import { startServer } from '../../reference-server/index.ts';
import { onlyOnce, until } from '../support/waiting.ts';
import { keyPair } from './chat-scenarios.ts';
import { CliProcess, canUsePseudoTerminal, stripAnsi } from './cli-process.ts';
import { EventRecorder } from './event-recorder.ts';

const PASSWORD = 'secret123';

describe('interactive client', () => {
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

  function inProcess(username: string, password = PASSWORD) {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    const exit = runInteractive(
      { host: '127.0.0.1', port, username, password },
      { input, output, color: false },
    );
    return {
      input,
      exit,
      output: () => text,
      waitFor: (needle: string) => until(() => text.includes(needle)),
    };
  }

  it('over plain streams: joins, chats, lists users, helps, quits with 0', async () => {
    const bob = await member('bob');
    const alice = inProcess('alice');
    await alice.waitFor('Users (2): bob, alice');
    bob.client.send('hi alice');
    await alice.waitFor('bob: hi alice');
    alice.input.write('hello bob\n');
    const heard = await bob.recorder.waitFor('message', (m) => m.sender === 'alice');
    expect(heard).toMatchObject({ kind: 'encrypted', text: 'hello bob' });
    await alice.waitFor('alice: hello bob');
    alice.input.write('/users\n/help\n/bogus\n//slash\n\n');
    await alice.waitFor('alice: /slash');
    alice.input.write('/quit\n');
    expect(await alice.exit).toBe(0);

    const lines = alice.output().split('\n');
    const stamp = String.raw`\[\d\d:\d\d:\d\d\]`;
    expect(lines[0]).toMatch(
      new RegExp(`^${stamp} \\* Connecting to 127\\.0\\.0\\.1:${port} as alice\\.\\.\\.$`),
    );
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${stamp} \\* Welcome alice!`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${stamp} bob: hi alice$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${stamp} alice: hello bob$`)));
    expect(lines.filter((line) => line.endsWith('* Users (2): bob, alice'))).toHaveLength(2);
    expect(lines).toContain('  /quit    leave (also /exit, Ctrl-D or Ctrl-C)');
    expect(lines).toContainEqual(expect.stringMatching(/! Unknown command \/bogus; type \/help$/));
    expect(lines).toContainEqual(expect.stringMatching(/\* Disconnected: closed by client$/));
    expect(alice.output()).not.toContain('\u001b[');
    await bob.recorder.waitFor('users', (e) => e.left.includes('alice'));
  });

  it('over plain streams: lines piped before the join are sent once joined, then end of input quits', async () => {
    const bob = await member('bob');
    const alice = inProcess('alice');
    alice.input.end('typed while connecting\n/users\n');
    expect(await alice.exit).toBe(0);
    expect(await bob.recorder.waitFor('message', (m) => m.sender === 'alice')).toMatchObject({
      kind: 'encrypted',
      text: 'typed while connecting',
    });
    expect(alice.output()).toContain('* Disconnected: closed by client');
  });

  it('over plain streams: a wrong password exits 1 and says why', async () => {
    const eve = inProcess('eve', 'wrong');
    expect(await eve.exit).toBe(1);
    expect(eve.output()).toContain('* Disconnected: server refused the handshake: Invalid server password');
  });

  it('over plain streams: server shutdown exits 3 with the reason', async () => {
    const alice = inProcess('alice');
    await alice.waitFor('Users (1): alice');
    await closeServer();
    expect(await alice.exit).toBe(3);
    expect(alice.output()).toContain('* Server is shutting down');
    expect(alice.output()).toContain('* Disconnected: Server is shutting down');
  });

  it.skipIf(!canUsePseudoTerminal)(
    'in a pseudo-terminal: asks for the password without echo, chats in colour, /users, /quit',
    async () => {
      const bob = await member('bob');
      const cli = new CliProcess(['client', '--host', '127.0.0.1', '--port', String(port), '-u', 'alice'], {
        pty: true,
        env: { TERM: 'xterm-256color', NO_COLOR: undefined },
      });
      await cli.waitForOutput('Server password');
      cli.write(`${PASSWORD}\r`);
      await cli.waitForOutput('alice> ');
      await cli.waitForOutput('Users (2): bob, alice');

      bob.client.send('hi alice');
      await cli.waitForOutput('bob: hi alice');
      cli.write('hello from the terminal\r');
      expect(await bob.recorder.waitFor('message', (m) => m.sender === 'alice')).toMatchObject({
        kind: 'encrypted',
        text: 'hello from the terminal',
      });
      await cli.waitForOutput(/\[\d\d:\d\d:\d\d\] alice: hello from the terminal/);
      cli.write('/users\r');
      await cli.waitForOutput(/\* Users \(2\): bob, alice\r?\n[\s\S]*\* Users \(2\): bob, alice/);
      cli.write('/quit\r');
      expect(await cli.exitCode()).toBe(0);

      const screen = stripAnsi(cli.stdout);
      expect(screen).toContain('* Disconnected: closed by client');
      expect(screen).not.toContain(PASSWORD);
      // Colours are on in a terminal: the timestamp is grey, notices dim.
      expect(cli.stdout).toContain('\u001b[90m[');
      expect(cli.stdout).toContain('\u001b[2m* ');
    },
  );

  it.skipIf(!canUsePseudoTerminal)('in a pseudo-terminal: NO_COLOR turns colours off', async () => {
    const cli = new CliProcess(['client', '--host', '127.0.0.1', '--port', String(port), '-u', 'alice'], {
      pty: true,
      env: { TERM: 'xterm-256color', NO_COLOR: '1', ECP_PASSWORD: PASSWORD },
    });
    await cli.waitForOutput('alice> ');
    cli.write('/quit\r');
    expect(await cli.exitCode()).toBe(0);
    expect(cli.stdout).not.toContain('\u001b[90m');
    expect(cli.stdout).not.toContain('\u001b[2m');
  });
});
