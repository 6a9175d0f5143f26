/**
 * What every hand-run bench script in this folder shares, so each script holds only its experiment:
 * its options (parsed by yargs, as the `ecp` commands parse theirs), the server it measures (started
 * or reached through server-under-test/, and stopped however the script ends, Ctrl-C included), and
 * its ending: exit code 0 when the run passed, 1 when it failed or could not run, 2 for bad options.
 * Not a script itself. A script reads top to bottom:
 *
 *   const options = scriptOptions(import.meta.filename, 'what it measures', { ... });
 *   const { target, url } = await startServer(spawned(options.spawn));
 *   ... the experiment, printing its report ...
 *   await finish(passed);
 */
import { basename } from 'node:path';
import type { InferredOptionTypes, Options } from 'yargs';
import { hideBin, yargs } from '../../bin/yargs.ts';
import { openTarget, type Target, type TargetSpec, TargetStartError } from '../../server-under-test/index.ts';
import { formatEndpoint } from '../../transport/index.ts';

/** The password of every server a script starts (`{password}` in a --spawn command). */
export const PASSWORD = 'secret123';
/** This tree's reference server, on the free port the kit picks; scripts add flags to it. */
export const REFERENCE_SERVER = 'node bin/ecp.js server --port {port} --password {password}';

const EXIT_FAILED = 1;
const EXIT_INVALID_OPTIONS = 2;

/** A yargs option, and for a number the least value it takes (and whether it must be whole). */
export type ScriptOption = Options & { min?: number; whole?: boolean };

/** The `--spawn` option of a script that starts the server it measures. */
export function spawnOption(command: string): { type: 'string'; default: string; describe: string } {
  return {
    type: 'string',
    default: command,
    describe:
      "Command that starts the server; '{port}' is replaced by a free port, '{password}' by the password",
  };
}

/**
 * The script's options from its command line; on a bad one, says why (and where --help is) and
 * exits 2. `script` is the script's `import.meta.filename`. Every script calls it first: from then
 * on an error it does not catch, or Ctrl-C, stops its servers before it exits.
 */
export function scriptOptions<O extends Record<string, ScriptOption>>(
  script: string,
  usage: string,
  options: O,
): InferredOptionTypes<O> {
  const name = `bench/scripts/${basename(script)}`;
  const parser = yargs(hideBin(process.argv))
    .scriptName(`npx tsx ${name}`)
    .usage(`$0 [options]\n\n${usage}`)
    .options(withBounds(options))
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      console.error(`${name}: ${message ?? error?.message}\nSee: npx tsx ${name} --help`);
      process.exit(EXIT_INVALID_OPTIONS);
    });
  const parsed = parser.parseSync() as unknown as InferredOptionTypes<O>;
  endOnError(name);
  return parsed;
}

function withBounds(options: Record<string, ScriptOption>): Record<string, Options> {
  return Object.fromEntries(
    Object.entries(options).map(([flag, { min, whole, ...option }]) => {
      if (min === undefined && !whole) return [flag, option];
      const coerce = (value: unknown) => {
        const number = Number(value);
        if (!Number.isFinite(number) || (whole && !Number.isInteger(number)) || number < (min ?? -Infinity))
          throw new RangeError(
            `--${flag} must be ${whole ? 'an integer' : 'a number'}${min === undefined ? '' : ` >= ${min}`}, got ${value}`,
          );
        return number;
      };
      return [flag, { ...option, coerce }];
    }),
  );
}

/** A server a script measures, and the URL its clients join. */
export interface ScriptServer {
  readonly target: Target;
  readonly url: string;
  stop(): Promise<void>;
}

/** Servers started and not yet stopped: stopped when the script ends, however it ends. */
const running = new Set<Target>();

/**
 * Starts (or reaches) the server through server-under-test/. A spawned server runs in a process
 * group of its own and would outlive the script: the script's end stops it (`finish`, an uncaught
 * error, Ctrl-C), and so can the script, when it wants another.
 */
export async function startServer(spec: TargetSpec): Promise<ScriptServer> {
  const target = await openTarget(spec);
  running.add(target);
  return {
    target,
    url: formatEndpoint(target.endpoint),
    stop: async () => {
      running.delete(target);
      await target.close();
    },
  };
}

/** A spawned server: `command` (with `{port}` and `{password}`) and `flags` after it. */
export function spawned(command: string, ...flags: string[]): TargetSpec {
  return { kind: 'spawned', command: [command, ...flags].join(' '), password: PASSWORD };
}

/** Ends the script: stops its servers and exits 0 when it passed, 1 when not. */
export async function finish(passed = true): Promise<never> {
  await stopAll();
  process.exit(passed ? 0 : EXIT_FAILED);
}

async function stopAll(): Promise<void> {
  const targets = [...running];
  running.clear();
  await Promise.allSettled(targets.map((target) => target.close()));
}

/** An error the script did not catch (a top-level await included) ends it with exit code 1. */
function endOnError(name: string): void {
  // Once ending, what fails because its server is gone is no news.
  let ending = false;
  const end = (code: number) => {
    ending = true;
    void stopAll().finally(() => process.exit(code));
  };
  const fail = (error: unknown) => {
    if (ending) return;
    console.error(`${name}: ${(error as Error)?.message ?? error}`);
    if (error instanceof TargetStartError && error.output) console.error(error.output);
    end(EXIT_FAILED);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  process.once('SIGINT', () => end(130));
  process.once('SIGTERM', () => end(143));
}
