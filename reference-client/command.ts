/**
 * The `ecp client` command: parses options, asks for what is missing, runs the interactive or the
 * JSON client, and exits with its status (exit-codes.ts).
 */
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_PORT } from '../protocol/index.ts';
import { INSECURE_WARNING, parseEndpoint, TransportError, usesTls } from '../transport/index.ts';
import type { ClientOptions } from './client.ts';
import { ExitCode } from './exit-codes.ts';
import { runInteractive } from './interactive.ts';
import { runJsonMode } from './json-mode.ts';
import { askPassword, askUsername, PromptCancelled } from './prompts.ts';
import { shouldUseColor } from './terminal-format.ts';

export interface ClientCommandArgs {
  server?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  ca?: string | undefined;
  insecure?: boolean | undefined;
  username: string | undefined;
  password: string | undefined;
  json: boolean;
  timeout: number;
}

export const clientCommand: CommandModule<object, ClientCommandArgs> = {
  command: 'client [server]',
  describe: 'Chat on an ECP server: interactive, or --json for scripts',
  builder: (yargs: Argv) =>
    yargs
      .positional('server', {
        type: 'string',
        describe:
          'The server: tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH, wss://HOST:PORT/PATH or HOST:PORT [default: localhost:8888]',
      })
      .option('host', {
        type: 'string',
        describe: 'Plain TCP server host, without a server URL [default: localhost]',
      })
      .option('port', {
        type: 'number',
        describe: `Plain TCP server port, without a server URL [default: ${DEFAULT_PORT}]`,
      })
      .option('ca', {
        type: 'string',
        describe: 'TLS: trust this CA certificate (PEM file) to verify the server',
      })
      .option('insecure', {
        type: 'boolean',
        default: false,
        describe:
          'TLS: do not verify the server certificate (anyone on the path can then read and change everything)',
      })
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
      .example('$0 client wss://chat.example.org/ecp -u alice', 'Over WebSocket with TLS')
      .example('$0 client tls://127.0.0.1:8443 --ca ca.pem -u alice', 'Over TLS with a private CA')
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
        if (error && !message) throw error;
        process.stderr.write(`ecp client: ${message ?? error?.message}\nSee: ecp client --help\n`);
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
  if (args.server !== undefined && (args.host !== undefined || args.port !== undefined)) {
    return badArguments('give the server as a URL or with --host and --port, not both');
  }
  if (args.port !== undefined && (!Number.isInteger(args.port) || args.port < 1 || args.port > 65_535)) {
    return badArguments(`--port must be an integer from 1 to 65535, got ${args.port}`);
  }
  let server: ReturnType<typeof serverOptions>;
  try {
    server = serverOptions(args);
  } catch (error) {
    if (error instanceof TransportError || error instanceof BadArgument) return badArguments(error.message);
    throw error;
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
  if (args.insecure) {
    process.stderr.write(`ecp client: ${INSECURE_WARNING}\n`);
  }
  const options = { ...server, username, password, timeoutMs: args.timeout * 1000 };
  if (args.json) return runJsonMode(options, { input: process.stdin, output: process.stdout });
  return runInteractive(options, {
    input: process.stdin,
    output: process.stdout,
    color: shouldUseColor(process.stdout),
  });
}

class BadArgument extends Error {}

/** Where the client connects, and how it trusts a TLS server. */
function serverOptions(
  args: ClientCommandArgs,
): Pick<ClientOptions, 'url' | 'host' | 'port' | 'ca' | 'insecure'> {
  const options: Pick<ClientOptions, 'url' | 'host' | 'port' | 'ca' | 'insecure'> = {};
  if (args.server !== undefined) {
    parseEndpoint(args.server);
    options.url = args.server;
    // Throws ECP_BAD_ENDPOINT here, as a bad argument, rather than when connecting.
    if ((args.ca !== undefined || args.insecure) && !usesTls(parseEndpoint(args.server).transport)) {
      throw new BadArgument('--ca and --insecure are for tls:// and wss:// servers');
    }
  } else {
    options.host = args.host ?? 'localhost';
    options.port = args.port ?? DEFAULT_PORT;
    if (args.ca !== undefined || args.insecure) {
      throw new BadArgument('--ca and --insecure are for tls:// and wss:// servers');
    }
  }
  if (args.ca !== undefined) {
    try {
      options.ca = readFileSync(args.ca);
    } catch (error) {
      throw new BadArgument(
        `cannot read --ca ${args.ca}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
  }
  if (args.insecure) options.insecure = true;
  return options;
}
