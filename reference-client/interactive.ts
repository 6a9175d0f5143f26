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
  let prompt: Interface | undefined;

  const print = (line: string): void => {
    if (prompt !== undefined && tty) {
      // Clear the half-typed input line, print above it, then redraw it.
      io.output.write('\r\x1b[2K');
      io.output.write(`${line}\n`);
      prompt.prompt(true);
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
      const rl = prompt;
      prompt = undefined;
      if (rl !== undefined && tty) io.output.write('\r\x1b[2K');
      print(format.closed(e));
      rl?.close();
      resolve(e.byClient ? ExitCode.ok : exitCodeFor(e.error));
    }),
  );

  print(format.notice(new Date(), `Connecting to ${client.host}:${client.port} as ${client.username}...`));
  let users: string[];
  try {
    ({ users } = await client.connect());
  } catch {
    return closed;
  }
  print(
    format.notice(
      new Date(),
      `Connected to ${client.host}:${client.port} as ${client.username}. Type /help for commands.`,
    ),
  );
  print(format.users(users, new Date()));

  // Without a terminal there is no prompt to draw: output is only the event lines.
  const rl = createInterface({
    input: io.input,
    output: tty ? io.output : undefined,
    terminal: tty,
    prompt: `${client.username}> `,
  });
  prompt = rl;
  rl.on('line', (line) => {
    if (tty) eraseEnteredLine(io.output, rl.getPrompt().length + line.length);
    const command = line.trim();
    if (command === '/quit' || command === '/exit') {
      rl.close();
      return;
    }
    if (command === '/help') {
      for (const text of HELP_TEXT) print(format.help(text));
    } else if (command === '/users') {
      print(format.users(client.users, new Date()));
    } else if (line.startsWith('//')) {
      sendLine(line.slice(1));
    } else if (command.startsWith('/')) {
      print(format.error(new Date(), `Unknown command ${command.split(/\s/)[0]}; type /help`));
    } else if (line.trim() !== '') {
      sendLine(line);
    }
    if (client.state === 'joined') rl.prompt();
  });
  // Ctrl-C at the prompt leaves like /quit instead of killing the process mid-write.
  rl.on('SIGINT', () => rl.close());
  rl.on('close', () => {
    // Ctrl-C or Ctrl-D leave the prompt (and maybe half a line) on screen: clear it.
    if (prompt !== undefined && tty) io.output.write('\r\x1b[2K');
    prompt = undefined;
    void client.close();
  });
  rl.prompt();
  return closed;

  function sendLine(text: string): void {
    if (client.state !== 'joined') return;
    // Shown when the server's echo arrives: that echo is the proof the room got it.
    client.send(text);
  }
}

/** Removes the line the user just entered (prompt included), so the echo shows it once, timestamped. */
function eraseEnteredLine(output: NodeJS.WritableStream & { columns?: number }, length: number): void {
  const columns = output.columns && output.columns > 0 ? output.columns : 80;
  const rows = Math.max(1, Math.ceil(length / columns));
  output.write(`\x1b[${rows}A\r\x1b[J`);
}
