/**
 * `ecp admin`: the admin API from the command line, so an operator never hand-writes curl. Kept
 * light: the `ecp` entry point loads it with every command, and the work is in admin-cli.ts.
 */
import type { Argv, CommandModule } from 'yargs';

export interface AdminArgs {
  url: string;
  'token-file': string | undefined;
  json: boolean;
  timeout: number;
  text?: string[];
  name?: string;
  reason?: string | undefined;
}

/** Exit statuses of `ecp admin`; scripts rely on them. */
export const AdminExit = {
  ok: 0,
  /** The server refused the token (401), or refuses this address for a while after wrong ones (429). */
  unauthorized: 1,
  /** Bad arguments, or no token. */
  badArguments: 2,
  /** The server could not be reached, or what answered is not the admin API. */
  unreachable: 3,
  /** The server refused the request: an unknown user, bad input. */
  refused: 4,
} as const;

type Subcommand = 'status' | 'users' | 'announce' | 'kick' | 'rotate-key';

function run(subcommand: Subcommand) {
  return async (args: object): Promise<void> => {
    const { runAdminCommand } = await import('./admin-cli.ts');
    process.exitCode = await runAdminCommand(subcommand, args as AdminArgs);
  };
}

function fail(message: string, error: Error | undefined): void {
  if (error && !message) throw error;
  console.error(`ecp admin: ${message ?? error?.message}\nSee: ecp admin --help`);
  process.exit(AdminExit.badArguments);
}

export const adminCommand: CommandModule<object, AdminArgs> = {
  command: 'admin <command>',
  describe: 'Manage a running reference server through its admin API (ecp server --admin-port)',
  builder: (yargs) =>
    (yargs as Argv)
      .usage(
        '$0 admin <command> --url http://HOST:PORT [options]\n\nThe token comes from --token-file or the ECP_ADMIN_TOKEN environment variable.',
      )
      .options({
        url: {
          type: 'string',
          demandOption: true,
          describe: 'The admin API, as `ecp server` printed it (admin API on http://HOST:PORT)',
        },
        'token-file': {
          type: 'string',
          describe: 'Read the token from this file [default: $ECP_ADMIN_TOKEN]',
        },
        json: { type: 'boolean', default: false, describe: "Print the server's JSON answer (for scripts)" },
        timeout: { type: 'number', default: 10, describe: 'Seconds to wait for the answer' },
      })
      .command('status', 'Limits, counts, uptime and listeners', {}, run('status'))
      .command(
        'users',
        'Who is in the room: transport, peer, connection age, pending output',
        {},
        run('users'),
      )
      .command(
        'announce <text..>',
        'Send every member a system notice',
        (y) => y.positional('text', { type: 'string', array: true, describe: 'The notice' }),
        run('announce'),
      )
      .command(
        'kick <name>',
        'Disconnect a user; they read the reason, the room sees them leave',
        (y) =>
          y
            .positional('name', { type: 'string', describe: 'The username' })
            .option('reason', { type: 'string', describe: 'Shown to the user' }),
        run('kick'),
      )
      .command('rotate-key', 'Give every member a new room key now', {}, run('rotate-key'))
      .demandCommand(1, 'Name a command: status, users, announce, kick or rotate-key.')
      .example('ECP_ADMIN_TOKEN=... $0 admin --url http://127.0.0.1:9200 users', 'who is in the room')
      .example(
        '$0 admin --url http://127.0.0.1:9200 --token-file admin.token kick bob --reason spam',
        'kick bob',
      )
      .example('$0 admin --url http://127.0.0.1:9200 status --json | jq .counts', 'for scripts')
      .strict()
      .fail(fail) as unknown as Argv<AdminArgs>,
  handler: () => {},
};
