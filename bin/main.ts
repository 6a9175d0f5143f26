/**
 * The `ecp` command: wires each area's command module together and nothing else.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { benchCommand } from '../bench/command.ts';
import { conformanceCommand } from '../conformance/command.ts';
import { fuzzCommand } from '../conformance/fuzz/command.ts';
import { mutantCommand } from '../conformance/mutants/command.ts';
import { gradeCommand } from '../grade/command.ts';
import { clientCommand } from '../reference-client/command.ts';
import { adminCommand } from '../reference-server/admin/command.ts';
import { serverCommand } from '../reference-server/command.ts';
import { rejectNonNumbers } from './number-options.ts';
import { versionText } from './version.ts';

// `ecp conformance --list | head`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const NO_COMMAND = 'Name a command; see --help.';

await yargs(hideBin(process.argv))
  .scriptName('ecp')
  .usage('$0 <command> [options]\n\nThe Encrypted Chat Protocol (ECP) kit.')
  .command(serverCommand)
  .command(clientCommand)
  .command(adminCommand)
  .command(conformanceCommand)
  .command(benchCommand)
  .command(mutantCommand)
  .command(fuzzCommand)
  .command(gradeCommand)
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
