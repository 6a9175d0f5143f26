/**
 * The `ecp` command: wires each area's command module together and nothing else.
 */
import type { CommandModule } from 'yargs';
import { rejectNonNumbers } from './number-options.ts';
import { versionText } from './version.ts';
import { hideBin, yargs } from './yargs.ts';

/**
 * Each command's module, by the name typed, loaded only when needed: `ecp server` loads the server
 * and nothing of the kit, the bench, the grader, cucumber or vega, which would hold tens of MB of
 * a long-running process's memory for nothing. Anything else (no command, `--help`, a typo) loads
 * them all, for the command list and the suggestions. One line per command, in the order of --help.
 */
// biome-ignore lint/suspicious/noExplicitAny: each command declares its own arguments.
const COMMANDS: Record<string, () => Promise<CommandModule<any, any>>> = {
  server: async () => (await import('../reference-server/command.ts')).serverCommand,
  client: async () => (await import('../reference-client/command.ts')).clientCommand,
  admin: async () => (await import('../reference-server/admin/command.ts')).adminCommand,
  conformance: async () => (await import('../conformance/command.ts')).conformanceCommand,
  bench: async () => (await import('../bench/command.ts')).benchCommand,
  mutant: async () => (await import('../conformance/mutants/command.ts')).mutantCommand,
  fuzz: async () => (await import('../conformance/fuzz/command.ts')).fuzzCommand,
  grade: async () => (await import('../grade/command.ts')).gradeCommand,
};

// `ecp conformance --list | head`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const NO_COMMAND = 'Name a command; see --help.';

const [typedCommand] = hideBin(process.argv);
const loaders =
  typedCommand !== undefined && Object.hasOwn(COMMANDS, typedCommand)
    ? [COMMANDS[typedCommand]!]
    : Object.values(COMMANDS);
const commands = await Promise.all(loaders.map((load) => load()));

await yargs(hideBin(process.argv))
  .scriptName('ecp')
  .usage('$0 <command> [options]\n\nThe Encrypted Chat Protocol (ECP) kit.')
  .command(commands)
  .check(rejectNonNumbers(hideBin(process.argv)), true)
  .demandCommand(1, NO_COMMAND)
  .recommendCommands()
  .strict()
  // An unknown command is a bad argument like any other: one line, where to look, exit 2. Each
  // command has its own handler for its own options.
  .fail((message, error, cli) => {
    if (error && !message) throw error;
    if (message === NO_COMMAND) {
      cli.showHelp('error');
      console.error(`\n${message}`);
    } else {
      const [typed] = hideBin(process.argv);
      const guessed = message?.startsWith('Did you mean') ? `Unknown command: ${typed}. ` : '';
      console.error(`ecp: ${guessed}${message ?? error?.message}\nSee: ecp --help`);
    }
    process.exit(2);
  })
  .help()
  .alias('h', 'help')
  .version(versionText())
  .wrap(Math.min(110, process.stdout.columns || 110))
  .parseAsync();
