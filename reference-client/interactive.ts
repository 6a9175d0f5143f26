/**
 * `ecp client`: the interactive terminal client, on node:readline. Incoming events are printed
 * above the input line, which is redrawn after each one so typing is never interrupted.
 */
import { createInterface, type Interface } from 'node:readline';
import { type ClientOptions, EcpClient } from './client.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';
import { TerminalFormat } from './terminal-format.ts';

export interface InteractiveIo {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  color: boolean;
}

export const HELP_TEXT = [
  'Type a line and press Enter to send it, encrypted, to everyone in the room.',
  'Commands:',
  '  /users   show who is in the room',
  '  /help    show this help',
  '  /quit    leave (also /exit, Ctrl-D or Ctrl-C)',
  'Start a line with // to send a line that begins with /.',
];

export async function runInteractive(options: ClientOptions, io: InteractiveIo): Promise<ExitCode> {
  const format = new TerminalFormat({ color: io.color });
  // Line editing and redrawing only when both ends are a terminal (not `echo hi | ecp client`).
  const tty = io.input.isTTY === true && io.output.isTTY === true;
  const client = new EcpClient(options);
  // Lines typed (or piped) before the join completes wait here and are sent once joined.
  const early: string[] = [];
  let quitWhenJoined = false;
  let aborting = false;

  // Created before connecting, so keys typed meanwhile go to the line editor, not the raw terminal.
  // Without a terminal there is no prompt to draw: output is only the event lines.
  let rl: Interface | undefined = createInterface({
    input: io.input,
    output: tty ? io.output : undefined,
    terminal: tty,
    prompt: '',
  });

  const print = (line: string): void => {
    if (rl !== undefined && tty) {
      // Clear the half-typed input line, print above it, then redraw it.
      io.output.write(`\r\x1b[2K${line}\n`);
      rl.prompt(true);
    } else {
      io.output.write(`${line}\n`);
    }
  };

  client.on('system', (e) => print(format.system(e)));
  client.on('message', (m) => print(format.message(m)));
  client.on('users', (e) => print(format.users(e.users, e.time, e)));
  client.on('keyChanged', (e) => print(format.notice(e.time, 'The room key changed')));
  client.on('protocolError', (e) => print(format.protocolError(e)));
  const closed = new Promise<ExitCode>((resolve) =>
    client.once('closed', (e) => {
      const editor = rl;
      rl = undefined;
      if (editor !== undefined && tty) io.output.write('\r\x1b[2K');
      print(format.closed(e));
      editor?.close();
      resolve(e.byClient ? ExitCode.ok : exitCodeFor(e.error));
    }),
  );

  rl.on('line', (line) => {
    if (tty && rl !== undefined) eraseEnteredLine(io.output, rl.getPrompt().length + line.length);
    const command = line.trim();
    if (command === '/quit' || command === '/exit') {
      rl?.close();
      return;
    }
    if (command === '/help') {
      for (const text of HELP_TEXT) print(format.help(text));
    } else if (command === '/users') {
      print(format.users(client.users, new Date()));
    } else if (line.startsWith('//')) {
      say(line.slice(1));
    } else if (command.startsWith('/')) {
      print(format.error(new Date(), `Unknown command ${command.split(/\s/)[0]}; type /help`));
    } else if (command !== '') {
      say(line);
    }
    if (client.state === 'joined') rl?.prompt();
  });
  // Ctrl-C leaves at once, even while joining, instead of killing the process mid-write.
  rl.on('SIGINT', () => {
    aborting = true;
    rl?.close();
  });
  // End of input (Ctrl-D, end of a pipe) or /quit: leave, but only after sending what was typed.
  rl.on('close', () => {
    if (rl !== undefined && tty) io.output.write('\r\x1b[2K');
    rl = undefined;
    if (client.state === 'joining' && !aborting) {
      quitWhenJoined = true;
      return;
    }
    void client.close();
  });

  print(format.notice(new Date(), `Connecting to ${where(client)} as ${client.username}...`));
  let users: string[];
  try {
    ({ users } = await client.connect());
  } catch {
    return closed;
  }
  print(
    format.notice(
      new Date(),
      `Connected to ${where(client)} as ${client.username}. Type /help for commands.`,
    ),
  );
  print(format.users(users, new Date()));
  for (const text of early.splice(0)) client.send(text);
  if (quitWhenJoined) {
    void client.close();
    return closed;
  }
  rl?.setPrompt(`${client.username}> `);
  rl?.prompt();
  return closed;

  function say(text: string): void {
    // Shown when the server's echo arrives: that echo is the proof the room got it.
    if (client.state === 'joined') client.send(text);
    else if (client.state === 'joining') early.push(text);
  }
}

/** Removes the line the user just entered (prompt included), so the echo shows it once, timestamped. */
function eraseEnteredLine(output: NodeJS.WritableStream & { columns?: number }, length: number): void {
  const columns = output.columns && output.columns > 0 ? output.columns : 80;
  const rows = Math.max(1, Math.ceil(length / columns));
  output.write(`\x1b[${rows}A\r\x1b[J`);
}

/** host:port for plain TCP, as v1 users know it; the URL for every other transport. */
function where(client: EcpClient): string {
  return client.endpoint.transport === 'tcp' ? `${client.host}:${client.port}` : client.url;
}
