/**
 * `ecp fuzz`: generated concurrent histories against a server, each checked against the model of
 * the room; a failing one shrunk and written as a `.feature` (and its transcript) under --out.
 * `--replay FILE` reruns such a feature through the conformance runner.
 * Exit codes as `ecp conformance`: 0 clean, 1 a rule was broken, 2 bad usage or no server.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import {
  addTargetOptions,
  openTarget,
  type Target,
  type TargetArgs,
  type TargetSpec,
  targetSpecFrom,
} from '../../server-under-test/index.ts';
import { INSECURE_WARNING, TransportError } from '../../transport/index.ts';
import { EMBEDDED_LIMITS } from '../embedded-limits.ts';
import { runConformance } from '../runner.ts';
import { featureText, transcriptText } from './feature-writer.ts';
import { type FuzzResult, fuzzServer, minimise, sessionFor } from './fuzz.ts';
import { formatStep as formatStepLine } from './history.ts';
import { FUZZ_PROFILES, type FuzzProfile } from './session.ts';

export const EXIT_CLEAN = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_UNUSABLE = 2;

interface FuzzArgs extends TargetArgs {
  seed: number | undefined;
  duration: number;
  clients: number;
  steps: number;
  shrink: number;
  replay: string | undefined;
  profile: FuzzProfile;
  out: string;
}

function builder(yargs: Argv): Argv<FuzzArgs> {
  return addTargetOptions(
    yargs.usage(
      '$0 fuzz [options]\n\nGenerated concurrent histories of several clients against a server, each checked against a\n' +
        'model of the room; a failing history is shrunk and written as a .feature. Targets the embedded\n' +
        'reference server unless --target or --spawn is given.',
    ),
  )
    .options({
      seed: { type: 'number', describe: 'Seed of the histories (printed; random when not given)' },
      duration: { type: 'number', default: 60, describe: 'Seconds to fuzz for' },
      clients: { type: 'number', default: 4, describe: 'Clients per history' },
      steps: { type: 'number', default: 30, describe: 'Steps per history' },
      shrink: { type: 'number', default: 60, describe: 'Seconds to spend shrinking a failing history' },
      profile: {
        choices: FUZZ_PROFILES,
        default: 'all' as FuzzProfile,
        describe: 'core: only broken MUSTs count; all: the SHOULDs and the room order too',
      },
      replay: { type: 'string', describe: 'Rerun a .feature that ecp fuzz wrote, against the server' },
      out: { type: 'string', default: 'reports/fuzz', describe: 'Directory for what a failing run writes' },
    })
    .example('$0 fuzz --duration 30', 'the embedded reference server')
    .example('$0 fuzz --spawn "python3 server.py --port {port}" --seed 7', 'a server the kit starts')
    .example('$0 fuzz --target ws://127.0.0.1:8080/ecp --clients 6', 'a running server over WebSocket')
    .example('$0 fuzz --replay reports/fuzz/fuzz-7-12.feature --target 127.0.0.1:8888', 'rerun a finding')
    .check((args) => {
      if (args.seed !== undefined && !(Number.isInteger(args.seed) && args.seed >= 0 && args.seed < 2 ** 32))
        throw new Error(`--seed must be a whole number from 0 to 2^32-1, got ${args.seed}`);
      if (!(args.duration > 0))
        throw new Error(`--duration must be a positive number of seconds, got ${args.duration}`);
      if (!(Number.isInteger(args.clients) && args.clients >= 2 && args.clients <= 12))
        throw new Error(`--clients must be a whole number from 2 to 12, got ${args.clients}`);
      if (!(Number.isInteger(args.steps) && args.steps >= 1 && args.steps <= 1000))
        throw new Error(`--steps must be a whole number from 1 to 1000, got ${args.steps}`);
      if (!(args.shrink >= 0))
        throw new Error(`--shrink must be a number of seconds >= 0, got ${args.shrink}`);
      if (args.replay !== undefined && !existsSync(args.replay))
        throw new Error(`--replay ${args.replay}: no such file`);
      return true;
    })
    .fail((message, error) => {
      if (error && !message) throw error;
      console.error(`ecp fuzz: ${message ?? error?.message}\nSee: ecp fuzz --help`);
      process.exit(EXIT_UNUSABLE);
    }) as unknown as Argv<FuzzArgs>;
}

async function handler(args: FuzzArgs): Promise<void> {
  process.exitCode = await runFuzzCommand(args);
}

export async function runFuzzCommand(
  args: FuzzArgs,
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let spec: TargetSpec;
  try {
    spec = targetSpecFrom(args, { limits: EMBEDDED_LIMITS });
    if (spec.kind === 'running' && spec.otherEndpoints !== undefined) {
      // A history's trace and the scenario written from it name no endpoint: one is all they replay on.
      throw new RangeError('ecp fuzz runs its histories against one endpoint: give --target one URL');
    }
    if (args.insecure) console.error(`ecp fuzz: ${INSECURE_WARNING}`);
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TransportError)) throw error;
    console.error(`ecp fuzz: ${error.message}`);
    return EXIT_UNUSABLE;
  }
  if (args.replay !== undefined) return replay(args.replay, spec, stdout);
  let target: Target;
  try {
    target = await openTarget(spec);
  } catch (error) {
    console.error(`ecp fuzz: cannot start or reach the server: ${(error as Error).message}`);
    return EXIT_UNUSABLE;
  }
  try {
    return await fuzzTarget(target, args, stdout);
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    console.error(`ecp fuzz: ${error.message}`);
    return EXIT_UNUSABLE;
  } finally {
    await target.close();
  }
}

async function fuzzTarget(target: Target, args: FuzzArgs, stdout: NodeJS.WritableStream): Promise<number> {
  const seed = args.seed ?? randomInt(2 ** 32);
  const session = await sessionFor(target, args.profile);
  const write = (text: string) => stdout.write(text);
  write(
    `ECP fuzz · ${target.description} · profile ${args.profile} · seed ${seed} · ${args.clients} clients · ${args.steps} steps a history · ${args.duration} s\n`,
  );
  const tty = (stdout as NodeJS.WriteStream).isTTY === true;
  let lastPrinted = 0;
  const result: FuzzResult = await fuzzServer(session, {
    seed,
    clients: args.clients,
    steps: args.steps,
    durationMs: args.duration * 1000,
    onHistory: (index, elapsedMs) => {
      if (tty) write(`\r  ${index + 1} histories, ${(elapsedMs / 1000).toFixed(0)} s, no violation yet`);
      else if (elapsedMs - lastPrinted >= 10_000) {
        lastPrinted = elapsedMs;
        write(`  ${index + 1} histories, ${(elapsedMs / 1000).toFixed(0)} s, no violation yet\n`);
      }
    },
  });
  if (tty) write('\n');
  const finding = result.finding;
  if (!finding) {
    write(
      `Clean: ${result.histories} histories in ${(result.durationMs / 1000).toFixed(1)} s (seed ${seed})\n`,
    );
    return EXIT_CLEAN;
  }
  write(
    `Violation in history ${finding.index} of seed ${seed} (${finding.history.length} steps, after ${(result.durationMs / 1000).toFixed(1)} s):\n`,
  );
  for (const violation of finding.outcome.violations.slice(0, 5))
    write(`  ${violation.requirement}: ${violation.text}\n`);
  write(`Shrinking (up to ${args.shrink} s)...\n`);
  const minimal = await minimise(session, finding, args.shrink * 1000);
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  const base = join(outDir, `fuzz-${seed}-${finding.index}`);
  await writeFile(
    `${base}.feature`,
    featureText({
      history: minimal.history,
      violation: minimal.violation,
      repeats: minimal.repeats,
      origin: `ecp fuzz --seed ${seed} (history ${finding.index}) against ${target.description}`,
    }),
  );
  await writeFile(
    `${base}.transcript.txt`,
    transcriptText(minimal.outcome.trace, minimal.outcome.violations),
  );
  const shown = (file: string) => relative(process.cwd(), file) || file;
  write(
    `Minimal history: ${minimal.history.length} steps, broke ${minimal.violation.requirement} in ${minimal.failures} of ${minimal.runs} runs; its scenario repeats it up to ${minimal.repeats} times\n` +
      `${minimal.history.map((step) => `  ${formatStepLine(step)}`).join('\n')}\n` +
      `  ${minimal.violation.requirement}: ${minimal.violation.text}\n` +
      `Wrote ${shown(`${base}.feature`)} and ${shown(`${base}.transcript.txt`)}\n`,
  );
  return EXIT_VIOLATION;
}

/** Reruns a written feature through the conformance runner, with the kit's steps. */
async function replay(file: string, spec: TargetSpec, stdout: NodeJS.WritableStream): Promise<number> {
  const run = await runConformance({ target: spec, features: [file], tags: '@fuzz', profile: 'all' });
  const ours = run.scenarios.filter((item) => resolve(item.location.replace(/:\d+$/, '')) === resolve(file));
  if (ours.length === 0) {
    console.error(`ecp fuzz: ${file} has no @fuzz scenario`);
    return EXIT_UNUSABLE;
  }
  for (const scenario of ours) {
    stdout.write(
      `${scenario.status === 'passed' ? '✓' : '✗'} ${scenario.location}  ${scenario.name} (${(scenario.durationMs / 1000).toFixed(1)} s)\n`,
    );
    if (scenario.failure) stdout.write(`    ${scenario.failure.message.split('\n').join('\n    ')}\n`);
  }
  return ours.every((item) => item.status === 'passed') ? EXIT_CLEAN : EXIT_VIOLATION;
}

export const fuzzCommand: CommandModule<object, FuzzArgs> = {
  command: 'fuzz',
  describe: 'Generated concurrent histories against a server, checked against a model of the room',
  builder,
  handler,
};
