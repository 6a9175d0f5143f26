/**
 * The `ecp client` command: parses options, asks for what is missing, runs the interactive or the
 * JSON client, and exits with its status (exit-codes.ts).
 */
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_PORT } from './client.ts';
import { ExitCode } from './exit-codes.ts';
import { runInteractive } from './interactive.ts';
import { runJsonMode } from './json-mode.ts';
import { askPassword, askUsername, PromptCancelled } from './prompts.ts';
import { shouldUseColor } from './terminal-format.ts';

export interface ClientCommandArgs {
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  json: boolean;
  timeout: number;
}

export const clientCommand: CommandModule<object, ClientCommandArgs> = {
  command: 'client',
  describe: 'Chat on an ECP server: interactive, or --json for scripts',
  builder: (yargs: Argv) =>
    yargs
      .option('host', { type: 'string', default: 'localhost', describe: 'Server host' })
      .option('port', { type: 'number', default: DEFAULT_PORT, describe: 'Server port' })
      .option('username', {
        alias: 'u',
        type: 'string',
        describe: 'Your name in the room (asked for if omitted)',
      })
      .option('password', {
        alias: 'p',
        type: 'string',
        describe: 'Server password; default $ECP_PASSWORD, else asked for without echo',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Scriptable mode: send each stdin line, write each event to stdout as one JSON line',
      })
      .option('timeout', {
        type: 'number',
        default: 10,
        describe: 'Seconds to wait for the join, and in --json mode for the echoes after stdin ends',
      })
      .example('$0 client -u alice', 'Chat interactively on localhost:8888; asks for the password')
      .example(
        'printf "hi\\n" | ECP_PASSWORD=secret123 $0 client -u bot --json',
        'Send one line and print the events as JSON lines',
      )
      .epilogue(
        'Exit status: 0 quit, or (--json) stdin ended and every line was echoed; 1 authentication failed ' +
          '(wrong password, taken or invalid name); 2 bad arguments; 3 connection failed, lost or closed by ' +
          'the server, or timed out; 130 cancelled at a prompt.',
      )
      // Bad arguments exit 2, not yargs's 1: 1 means the server refused us.
      .fail((message, error) => {
        if (error) throw error;
        process.stderr.write(`ecp client: ${message}\nSee: ecp client --help\n`);
        process.exit(ExitCode.badArguments);
      }),
  handler: async (args) => {
    const code = await runClientCommand(args);
    // Flush what is written, then exit: stdin may still be open (a lost connection in --json mode).
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(code);
  },
};

export async function runClientCommand(args: ClientCommandArgs): Promise<ExitCode> {
  const badArguments = (text: string): ExitCode => {
    process.stderr.write(`ecp client: ${text}\n`);
    return ExitCode.badArguments;
  };
  if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65_535) {
    return badArguments(`--port must be an integer from 1 to 65535, got ${args.port}`);
  }
  if (!(args.timeout > 0))
    return badArguments(`--timeout must be a positive number of seconds, got ${args.timeout}`);
  const canPrompt = !args.json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  let username = args.username;
  // An empty ECP_PASSWORD counts as unset (`ECP_PASSWORD= ecp client` should still ask).
  let password = args.password ?? (process.env.ECP_PASSWORD || undefined);
  try {
    if (username === undefined || username === '') {
      if (!canPrompt) return badArguments('--username is required');
      username = await askUsername(process.stdin, process.stdout);
      if (username === '') return badArguments('a username is required');
    }
    if (password === undefined) {
      if (!canPrompt)
        return badArguments('--password or ECP_PASSWORD is required when there is no terminal to ask');
      password = await askPassword();
    }
  } catch (error) {
    if (error instanceof PromptCancelled) return ExitCode.cancelled;
    throw error;
  }
  const options = { host: args.host, port: args.port, username, password, timeoutMs: args.timeout * 1000 };
  if (args.json) return runJsonMode(options, { input: process.stdin, output: process.stdout });
  return runInteractive(options, {
    input: process.stdin,
    output: process.stdout,
    color: shouldUseColor(process.stdout),
  });
}
