/**
 * `ecp mutant list`, `ecp mutant serve NAME` and `ecp mutant client NAME URL`: the kit's faulty
 * servers and clients, for "find the bug" exercises. A served mutant takes the command line every server under test takes (docs/protocol.md
 * section 15: --port, --password, the limit flags) and stops gracefully on SIGINT or SIGTERM, so
 * `ecp conformance --spawn "ecp mutant serve 7 --port {port}"` checks it like a student's server.
 * Exit codes: 0 after a graceful stop, 1 if it cannot listen, 2 for an unknown mutant or bad options.
 */

import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_LIMITS, DEFAULT_PORT, type Limits } from '../../protocol/index.ts';
import { OutputTail } from '../../server-under-test/index.ts';
import { LIMIT_FLAGS } from '../limits-option.ts';
import { findMutant, MUTANTS, type Mutant, mutantSlug } from './catalogue.ts';
import { CLIENT_MUTANTS, clientMutantSlug, resolveClientMutant } from './client-catalogue.ts';
import { FaultProxy } from './fault-proxy.ts';
import { runFaultyClient } from './faulty-client.ts';
import { RACE_MUTANTS, type RaceMutant } from './races.ts';

const EXIT_UNUSABLE = 2;
const LIMIT_NAMES = Object.keys(LIMIT_FLAGS) as (keyof Limits)[];
/** A stop that has not finished by then is cut short (the contract allows 2 s). */
const SHUTDOWN_DEADLINE_MS = 1900;

/** A mutant the scenarios catch, by name, slug or its number in `ecp mutant list` (1-based). */
export function resolveMutant(name: string): Mutant | undefined {
  const found = resolveAnyMutant(name);
  return found && 'caughtBy' in found ? found : undefined;
}

/** Every mutant in list order: those the scenarios catch, then those only `ecp fuzz` finds. */
const LISTED: readonly (Mutant | RaceMutant)[] = [...MUTANTS, ...RACE_MUTANTS];

/** Any mutant, the race mutants included, by name, slug or number. */
export function resolveAnyMutant(name: string): Mutant | RaceMutant | undefined {
  const number = Number(name);
  if (Number.isInteger(number) && String(number) === name.trim()) return LISTED[number - 1];
  const wanted = name.trim().toLowerCase();
  return (
    findMutant(name) ??
    RACE_MUTANTS.find((mutant) => mutant.name.toLowerCase() === wanted || mutantSlug(mutant) === wanted)
  );
}

/** One line per mutant: number, slug, the requirement that catches it, the fault. */
export function formatMutantList(): string {
  const width = Math.max(...LISTED.map((mutant) => mutantSlug(mutant).length));
  const idWidth = Math.max(...LISTED.map((mutant) => mutant.requirement.length));
  const lines = LISTED.map(
    (mutant, index) =>
      `${String(index + 1).padStart(2)}  ${mutantSlug(mutant).padEnd(width)}  ${mutant.requirement.padEnd(idWidth)}  ${'caughtBy' in mutant ? '' : '(found by ecp fuzz) '}${mutant.fault}`,
  );
  const clientWidth = Math.max(...CLIENT_MUTANTS.map((mutant) => clientMutantSlug(mutant).length));
  const clientIdWidth = Math.max(...CLIENT_MUTANTS.map((mutant) => mutant.requirement.length));
  const clientLines = CLIENT_MUTANTS.map(
    (mutant, index) =>
      `${String(index + 1).padStart(2)}  ${clientMutantSlug(mutant).padEnd(clientWidth)}  ${mutant.requirement.padEnd(clientIdWidth)}  ${mutant.fault}`,
  );
  return (
    `Servers\n${lines.join('\n')}\n${LISTED.length} server mutants: the reference server with one fault each; the last ${RACE_MUTANTS.length} have concurrency bugs that only ecp fuzz finds. Serve one with: ecp mutant serve NAME|NUMBER --port 8899\n\n` +
    `Clients\n${clientLines.join('\n')}\n${CLIENT_MUTANTS.length} client mutants: the reference client with one fault each. Check one with: ecp conformance --client "ecp mutant client NAME|NUMBER {url} -u {username} -p {password}"\n`
  );
}

interface ClientArgs {
  name: string;
  url: string;
  username: string;
  password: string;
  ca: string | undefined;
}

async function runClient(args: ClientArgs): Promise<void> {
  const mutant = resolveClientMutant(args.name)!;
  let ca: Buffer | undefined;
  try {
    ca = args.ca === undefined ? undefined : readFileSync(args.ca);
  } catch (error) {
    console.error(`ecp mutant: cannot read --ca ${args.ca}: ${(error as NodeJS.ErrnoException).code}`);
    process.exit(EXIT_UNUSABLE);
  }
  const code = await runFaultyClient(
    mutant,
    { url: args.url, username: args.username, password: args.password, ...(ca ? { ca } : {}) },
    { input: process.stdin, output: process.stdout },
  );
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

interface ServeArgs {
  name: string;
  host: string;
  port: number;
  password: string;
  'max-line-bytes': number;
  'handshake-timeout-ms': number;
  'max-pending-output-bytes': number;
  'max-connections': number;
  'max-username-length': number;
}

function serveBuilder(yargs: Argv): Argv<ServeArgs> {
  const limitOptions = Object.fromEntries(
    LIMIT_NAMES.map((name) => [
      LIMIT_FLAGS[name].slice(2),
      { type: 'number' as const, default: DEFAULT_LIMITS[name], describe: `The ${name} limit` },
    ]),
  );
  return yargs
    .positional('name', {
      type: 'string',
      demandOption: true,
      describe: 'Name, slug or number (ecp mutant list)',
    })
    .options({
      host: { type: 'string', default: '127.0.0.1', describe: 'Interface to listen on' },
      port: { type: 'number', default: DEFAULT_PORT, describe: 'TCP port; 0 picks a free one (printed)' },
      password: { type: 'string', default: 'secret123', describe: 'Server password' },
      ...limitOptions,
    })
    .check((args) => {
      if (!resolveAnyMutant(String(args.name))) {
        throw new Error(`no mutant '${args.name}'; see: ecp mutant list`);
      }
      for (const flag of Object.keys(LIMIT_FLAGS)) {
        const value = args[flag] as number;
        if (!Number.isInteger(value) || value <= 0)
          throw new Error(`--${flag} needs a positive whole number`);
      }
      return true;
    }) as unknown as Argv<ServeArgs>;
}

async function serve(args: ServeArgs): Promise<void> {
  const mutant = resolveAnyMutant(args.name)!;
  const limits = Object.fromEntries(
    LIMIT_NAMES.map((name) => [name, args[LIMIT_FLAGS[name].slice(2) as keyof ServeArgs] as number]),
  ) as unknown as Limits;
  let server: { port: number; close(): Promise<void> };
  try {
    // The fault proxy speaks plain TCP, like the servers of labs 1 to 8.
    server = await FaultProxy.starter(mutant.build)({
      endpoint: { transport: 'tcp', host: args.host, port: args.port, path: '' },
      password: args.password,
      tls: undefined,
      limits,
      // Its logs would give the fault away: the exercise is to find it on the wire.
      output: new OutputTail(64 * 1024),
    });
  } catch (error) {
    console.error(`ecp mutant: cannot listen on ${args.host}:${args.port}: ${(error as Error).message}`);
    process.exit(1);
  }
  const number = LISTED.indexOf(mutant) + 1;
  console.log(`mutant ${number} listening on ${args.host}:${server.port}`);
  const stop = () => {
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export const mutantCommand: CommandModule = {
  command: 'mutant <command>',
  describe: "The kit's faulty servers and clients, for find-the-bug exercises",
  builder: (yargs) =>
    yargs
      .command({
        command: 'list',
        describe: 'List the mutants: number, name, the requirement that catches it, its fault',
        handler: () => {
          process.stdout.write(formatMutantList());
        },
      })
      .command({
        command: 'serve <name>',
        describe: 'Run one mutant until SIGINT or SIGTERM',
        builder: serveBuilder,
        handler: (args) => serve(args as unknown as ServeArgs),
      })
      .command({
        command: 'client <name> <url>',
        describe: 'Run one client mutant: `ecp client --json` with one fault',
        builder: (inner: Argv) =>
          inner
            .positional('name', {
              type: 'string',
              demandOption: true,
              describe: 'Name or number (ecp mutant list, Clients)',
            })
            .positional('url', {
              type: 'string',
              demandOption: true,
              describe: 'The server, as for ecp client',
            })
            .options({
              username: { alias: 'u', type: 'string', demandOption: true, describe: 'Your name in the room' },
              password: { alias: 'p', type: 'string', demandOption: true, describe: 'Server password' },
              ca: { type: 'string', describe: 'TLS: trust this CA certificate (PEM file)' },
            })
            .check((args) => {
              if (!resolveClientMutant(String(args.name))) {
                throw new Error(`no client mutant '${args.name}'; see: ecp mutant list`);
              }
              return true;
            }),
        handler: (args) => runClient(args as unknown as ClientArgs),
      })
      .demandCommand(1, 'Name a subcommand: list, serve or client.')
      .example('$0 mutant list', 'every mutant and its fault')
      .example(
        '$0 mutant serve 7 --port 8899 --password secret123',
        'run mutant 7 (its fault is not printed)',
      )
      .fail((message, error) => {
        if (error && !message) throw error;
        console.error(`ecp mutant: ${message ?? error?.message}\nSee: ecp mutant --help`);
        process.exit(EXIT_UNUSABLE);
      }),
  handler: () => {},
};
