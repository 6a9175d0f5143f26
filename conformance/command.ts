/**
 * `ecp conformance`: runs the features against a server and reports, like h2spec or Autobahn.
 * Exit codes: 0 every selected scenario passed (or was skipped as not checkable), 1 a scenario
 * failed, 2 the target could not be reached or started, or the arguments are wrong.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { Limits } from '../protocol/index.ts';
import {
  addTargetOptions,
  type TargetArgs,
  type TargetSpec,
  targetSpecFrom,
} from '../server-under-test/index.ts';
import { formatEndpoint, INSECURE_WARNING, TransportError } from '../transport/index.ts';
import { CLIENT_PLACEHOLDERS, DEFAULT_CLIENT_TIMEOUT_MS, runClientConformance } from './client-runner.ts';
import { CLIENT_OUTPUTS, type ClientOutput } from './client-support/client-parameters.ts';
import { EMBEDDED_LIMITS } from './embedded-limits.ts';
import { findLab, LABS, labName } from './labs.ts';
import { formatLimits, limitsFromCommand, parseLimitsOption } from './limits-option.ts';
import { resolveMutant } from './mutants/command.ts';
import { type MutantScore, type MutationReport, scoreMutants } from './mutants/score.ts';
import { PasswordRefusedError } from './password-check.ts';
import { PROFILE_SELECTIONS, type ProfileSelection } from './profiles.ts';
import { mergeRepeats } from './repeats.ts';
import { consoleFor, formatEnd, progressPrinter } from './reports/console.ts';
import { REPORT_FILES, writeReports } from './reports/write.ts';
import { formatRequirement, loadRequirements } from './requirements.ts';
import {
  type ConformanceRun,
  DEFAULT_TIMEOUT_MS,
  planScenarios,
  runConformance,
  TargetUnavailableError,
} from './runner.ts';
import { describeSelection, type ScenarioSelection } from './selection.ts';
import { describeStepLibrary, formatStepLibrary } from './step-library.ts';
import { randomSeed } from './support/seeded-bytes.ts';
import { traceRequirements } from './traceability.ts';
import { RESTART_POLICIES, type RestartPolicy } from './world-parameters.ts';

export { EMBEDDED_LIMITS };

export const EXIT_PASSED = 0;
export const EXIT_FAILED = 1;
export const EXIT_UNUSABLE = 2;

interface ConformanceArgs extends TargetArgs {
  client: string | undefined;
  'client-output': ClientOutput;
  timeout: number | undefined;
  tags: string | undefined;
  profile: ProfileSelection;
  lab: number | undefined;
  only: boolean;
  section: string[] | undefined;
  features: string[] | undefined;
  steps: boolean;
  mutants: boolean;
  mutant: string[] | undefined;
  parallel: number;
  repeat: number;
  seed: number | undefined;
  restart: RestartPolicy;
  limits: string | undefined;
  list: boolean;
  uncovered: boolean;
  out: string;
}

function builder(yargs: Argv): Argv<ConformanceArgs> {
  return addTargetOptions(
    yargs.usage(
      '$0 conformance [options]\n\nCheck an ECP v1 server against the specification (docs/protocol.md). Targets the embedded\n' +
        'reference server unless --target or --spawn is given.',
    ),
  )
    .options({
      client: {
        type: 'string',
        describe: `Check a client instead: the kit plays the room and runs this command once per scenario, with ${CLIENT_PLACEHOLDERS.join(' ')} filled in (see docs/conformance.md)`,
      },
      'client-output': {
        choices: CLIENT_OUTPUTS,
        default: 'json' as ClientOutput,
        describe: 'json: the client meets the driver contract on stdout; none: judge it at the wire only',
      },
      timeout: {
        type: 'number',
        describe: `Seconds each expectation waits [default: ${DEFAULT_TIMEOUT_MS / 1000}, with --client ${DEFAULT_CLIENT_TIMEOUT_MS / 1000}]`,
      },
      profile: {
        choices: PROFILE_SELECTIONS,
        default: 'all' as ProfileSelection,
        describe: 'core: MUSTs; strict: order and wording; robustness: hardening',
      },
      tags: { type: 'string', describe: "Cucumber tag expression, e.g. '@ECP-HS-03 or @ECP-KX-02'" },
      lab: {
        type: 'number',
        describe: `Lab N and the labs before it (${LABS.map((lab) => lab.number).join(', ')}; see docs/labs/)`,
      },
      only: { type: 'boolean', default: false, describe: 'With --lab N: lab N alone' },
      features: {
        type: 'string',
        array: true,
        describe: "A folder (or file) of your own .feature files, run with the kit's; repeatable",
      },
      steps: {
        type: 'boolean',
        default: false,
        describe: 'Print the step library your .feature files can use, and exit',
      },
      mutants: {
        type: 'boolean',
        default: false,
        describe: "Score the selected scenarios by how many of the kit's faulty servers they detect",
      },
      mutant: {
        type: 'string',
        array: true,
        describe: 'With --mutants: only this mutant (name or number, see ecp mutant list); repeatable',
      },
      section: {
        type: 'string',
        array: true,
        describe:
          'Requirements of a section of docs/protocol.md (4, 6.2) or an area (ECP-HS, HS); repeatable',
      },
      parallel: {
        type: 'number',
        default: 1,
        describe: 'Worker processes, each with its own server (embedded or --spawn)',
      },
      repeat: {
        type: 'number',
        default: 1,
        describe: 'Run every selected scenario K times and report how often each passed',
      },
      seed: {
        type: 'number',
        describe:
          'Seed of the random inputs (random and printed when not given): the same seed, the same bytes',
      },
      restart: {
        choices: RESTART_POLICIES,
        default: 'none' as RestartPolicy,
        describe: 'Restart a spawned or embedded server per feature or per scenario',
      },
      limits: {
        type: 'string',
        describe: "The server's limits where they differ from the defaults, e.g. handshakeTimeoutMs=2000",
      },
      list: { type: 'boolean', default: false, describe: 'List the selected scenarios and exit' },
      uncovered: {
        type: 'boolean',
        default: false,
        describe: 'With --list: the requirements no scenario checks',
      },
      out: { type: 'string', default: 'reports', describe: 'Directory for the reports' },
    })
    .example('$0 conformance', 'the embedded reference server, every profile')
    .example('$0 conformance --target 127.0.0.1:8888 --profile core', 'a running server')
    .example('$0 conformance --target ws://127.0.0.1:8080/ecp', 'a running server over WebSocket')
    .example('$0 conformance --transport tls', 'the embedded reference server over TLS')
    .example(
      '$0 conformance --spawn "node server.js --ws-port {port}" --target "ws://127.0.0.1:{port}/chat"',
      'a server the kit starts, reached over WebSocket',
    )
    .example(
      '$0 conformance --spawn "python3 server.py --port {port}" --limits handshakeTimeoutMs=10000',
      'a server the kit starts',
    )
    .example(
      '$0 conformance --client "ecp client {url} -u {username} -p {password} --json"',
      'a client: the kit plays the room',
    )
    .example(
      '$0 conformance --transport tls --client "ecp client {url} --ca {ca} -u {username} -p {password} --json"',
      'a client over TLS, trusting the certificate in {ca}',
    )
    .example(
      '$0 conformance --repeat 5 --profile core',
      'every core scenario five times: which verdicts move',
    )
    .example('$0 conformance --lab 3', 'labs 1 to 3 (--only: lab 3 alone)')
    .example('$0 conformance --section 4 --section ECP-KX', 'section 4 and the key-exchange requirements')
    .example(
      '$0 conformance --features labs/extra --tags @lab-14',
      "your own scenarios, with the kit's steps",
    )
    .example('$0 conformance --features labs/extra --mutants', 'how many faulty servers the features detect')
    .example('$0 conformance --list --uncovered', 'requirements without a scenario')
    .check((args) => {
      if (args.timeout !== undefined && !(args.timeout > 0))
        throw new Error(`--timeout must be a positive number of seconds, got ${args.timeout}`);
      if (args.client !== undefined) {
        if (args.client.trim() === '') throw new Error('--client needs the command that starts the client');
        for (const other of ['target', 'spawn', 'mutants', 'limits'] as const) {
          if (args[other]) throw new Error(`--client goes without --${other} (the kit plays the server)`);
        }
        if (args.parallel > 1) throw new Error('--client runs one scenario at a time');
      }
      if (!Number.isInteger(args.parallel) || args.parallel < 1) {
        throw new Error(`--parallel must be a whole number >= 1, got ${args.parallel}`);
      }
      if (!Number.isInteger(args.repeat) || args.repeat < 1) {
        throw new Error(`--repeat must be a whole number >= 1, got ${args.repeat}`);
      }
      if (args.seed !== undefined && (!Number.isSafeInteger(args.seed) || args.seed < 0)) {
        throw new Error(`--seed must be a whole number >= 0, got ${args.seed}`);
      }
      if (args.repeat > 1 && args.mutants) throw new Error('--repeat does not go with --mutants');
      if (args.uncovered && !args.list) throw new Error('--uncovered goes with --list');
      if (args.only && args.lab === undefined) throw new Error('--only goes with --lab N');
      if (args.mutant && !args.mutants) throw new Error('--mutant goes with --mutants');
      if (args.mutants && (args.target || args.spawn)) {
        throw new Error(
          '--mutants runs its own servers (the reference server and each mutant): not with --target or --spawn',
        );
      }
      for (const name of args.mutant ?? []) {
        if (!resolveMutant(name)) throw new Error(`no mutant '${name}'; see: ecp mutant list`);
      }
      for (const path of args.features ?? []) {
        if (!existsSync(path)) throw new Error(`--features ${path}: no such folder or file`);
      }
      if (args.lab !== undefined && !findLab(args.lab)) {
        throw new Error(
          `there is no lab ${args.lab}; the labs are ${LABS.map((lab) => lab.number).join(', ')}`,
        );
      }
      return true;
    })
    .fail((message, error) => {
      if (error && !message) throw error;
      console.error(`ecp conformance: ${message ?? error?.message}\nSee: ecp conformance --help`);
      process.exit(EXIT_UNUSABLE);
    }) as unknown as Argv<ConformanceArgs>;
}

async function handler(args: ConformanceArgs): Promise<void> {
  process.exitCode = await runCommand(args);
}

export async function runCommand(args: ConformanceArgs): Promise<number> {
  if (args.steps) {
    process.stdout.write(formatStepLibrary(await describeStepLibrary()));
    return EXIT_PASSED;
  }
  if (args.list) return list(args);
  if (args.client !== undefined) return clientRun(args, args.client);
  if (args.mutants) return mutants(args);
  let spec: TargetSpec;
  let limits: Partial<Limits>;
  try {
    // A spawned server's limit flags are its limits; --limits says more, or overrides them.
    const declared = {
      ...(args.spawn ? limitsFromCommand(args.spawn) : {}),
      ...(args.limits ? parseLimitsOption(args.limits) : {}),
    };
    limits = args.target || args.spawn ? declared : { ...EMBEDDED_LIMITS, ...declared };
    spec = targetSpecFrom(args, { limits });
    if (args.insecure) console.error(`ecp conformance: ${INSECURE_WARNING}`);
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TransportError)) throw error;
    console.error(`ecp conformance: ${error.message}`);
    return EXIT_UNUSABLE;
  }
  const out = consoleFor(process.stdout);
  // One seed for every repetition: what moves between them is then timing, never input.
  const seed = args.seed ?? randomSeed();
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  out.write(
    `ECP conformance · ${describeSelection(selectionOf(args))} · timeout ${timeoutSeconds(args)} s` +
      `${Object.keys(limits).length > 0 ? ` · limits ${formatLimits(limits)}` : ''} · seed ${seed}\n`,
  );
  if (spec.kind === 'running' && spec.otherEndpoints !== undefined) {
    const endpoints = [spec.endpoint, ...spec.otherEndpoints].map(formatEndpoint);
    out.write(
      `One room at ${endpoints.join(', ')}: each scenario's clients connect to them in turn (report notes: who was where)\n`,
    );
  }
  const runs: ConformanceRun[] = [];
  try {
    for (let attempt = 1; attempt <= args.repeat; attempt++) {
      if (args.repeat > 1) out.write(`\nRun ${attempt} of ${args.repeat}\n`);
      runs.push(
        await runConformance({
          target: spec,
          ...selectionOf(args),
          ...(args.features?.length ? { features: args.features } : {}),
          timeoutMs: timeoutSeconds(args) * 1000,
          limits,
          seed,
          restart: args.restart,
          parallel: args.parallel,
          // Cucumber's own reports (HTML, JUnit) describe the first run.
          ...(attempt === 1 ? { outDir } : {}),
          onScenario: progressPrinter(out),
          // One handshake before the scenarios: a refused password is said once, not a hundred times.
          checkPassword: attempt === 1,
        }),
      );
    }
  } catch (error) {
    if (
      error instanceof TargetUnavailableError ||
      error instanceof RangeError ||
      error instanceof PasswordRefusedError
    ) {
      console.error(`ecp conformance: ${error.message}`);
      if (error instanceof TargetUnavailableError && error.output) console.error(error.output.trimEnd());
      return EXIT_UNUSABLE;
    }
    throw error;
  }
  const { run, attempts } = mergeRepeats(runs);
  const summary = await writeReports(outDir, run, loadRequirements(), attempts);
  return finishRun(summary, out, outDir, args);
}

function timeoutSeconds(args: ConformanceArgs): number {
  return args.timeout ?? (args.client !== undefined ? DEFAULT_CLIENT_TIMEOUT_MS : DEFAULT_TIMEOUT_MS) / 1000;
}

/** `--client CMD`: the client features, the kit playing the room. */
async function clientRun(args: ConformanceArgs, command: string): Promise<number> {
  const out = consoleFor(process.stdout);
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  const transport = args.transport ?? 'tcp';
  out.write(
    `ECP client conformance · ${describeSelection(selectionOf(args))} · ${transport}:// · output ${args['client-output']} · timeout ${timeoutSeconds(args)} s\n`,
  );
  let run: Awaited<ReturnType<typeof runClientConformance>>;
  try {
    run = await runClientConformance({
      command,
      output: args['client-output'],
      transport,
      ...selectionOf(args),
      timeoutMs: timeoutSeconds(args) * 1000,
      outDir,
      onScenario: progressPrinter(out),
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    console.error(`ecp conformance: ${error.message}`);
    return EXIT_UNUSABLE;
  }
  const summary = await writeReports(outDir, run, loadRequirements());
  return finishRun(summary, out, outDir, args);
}

/** `--mutants`: the selected scenarios against the reference server, then against each mutant. */
async function mutants(args: ConformanceArgs): Promise<number> {
  const out = consoleFor(process.stdout);
  let limits: Partial<Limits>;
  try {
    limits = { ...EMBEDDED_LIMITS, ...(args.limits ? parseLimitsOption(args.limits) : {}) };
  } catch (error) {
    console.error(`ecp conformance: ${(error as Error).message}`);
    return EXIT_UNUSABLE;
  }
  const chosen = args.mutant?.map((name) => resolveMutant(name)!);
  out.write(
    `ECP conformance · mutation score · ${describeSelection(selectionOf(args))} · timeout ${timeoutSeconds(args)} s\n`,
  );
  let report: MutationReport;
  try {
    report = await scoreMutants({
      ...selectionOf(args),
      ...(args.features?.length ? { features: args.features } : {}),
      ...(chosen ? { mutants: chosen } : {}),
      password: args.password,
      limits,
      timeoutMs: timeoutSeconds(args) * 1000,
      onBaseline: (run) => {
        const passed = run.scenarios.filter((item) => item.status === 'passed').length;
        const skipped = run.scenarios.filter((item) => item.status === 'skipped').length;
        out.write(
          `The reference server: ${passed} of ${run.scenarios.length} selected scenarios pass${skipped > 0 ? `, ${skipped} skipped (not checkable here)` : ''} (${(run.durationMs / 1000).toFixed(1)} s)\n\n`,
        );
      },
      onMutant: (score) => out.write(`${formatMutantScore(score)}\n`),
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    console.error(`ecp conformance: ${error.message}`);
    return EXIT_UNUSABLE;
  }
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'mutants.json');
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  if (report.scenarios === 0) {
    console.error(`ecp conformance: ${nothingSelected(args)}`);
    return EXIT_UNUSABLE;
  }
  if (report.baselineFailures.length > 0) {
    console.error(
      `ecp conformance: ${report.baselineFailures.length} selected scenario(s) fail against the reference server itself, so no mutant was run; fix them first:\n${report.baselineFailures.map((item) => `  ${item.location}  ${item.name}`).join('\n')}`,
    );
    return EXIT_UNUSABLE;
  }
  const percent = Math.round((100 * report.detected) / report.total);
  out.write(
    `\nMutants detected: ${report.detected}/${report.total} (${percent}%) by ${report.scenarios} scenarios, in ${(report.durationMs / 1000).toFixed(1)} s\nReport: ${relative(process.cwd(), file) || file}\n`,
  );
  return report.detected === report.total ? EXIT_PASSED : EXIT_FAILED;
}

function formatMutantScore(score: MutantScore): string {
  const head = `  ${score.detected ? '✓' : '✗'} ${String(score.number).padStart(2)} ${score.slug.padEnd(36)}`;
  return score.detectedBy
    ? `${head} detected by ${score.detectedBy.requirements.join(' ')} "${score.detectedBy.name}"`
    : `${head} NOT detected: ${score.fault}`;
}

/** Prints the run's last lines and where its reports are; the exit code of a server or client run. */
function finishRun(
  summary: Awaited<ReturnType<typeof writeReports>>,
  out: ReturnType<typeof consoleFor>,
  outDir: string,
  args: ConformanceArgs,
): number {
  const shown = (file: string) => relative(process.cwd(), join(outDir, file)) || file;
  out.write(
    formatEnd(
      summary,
      out,
      [REPORT_FILES.summaryMarkdown, REPORT_FILES.summaryJson, REPORT_FILES.html, REPORT_FILES.junit].map(
        shown,
      ),
    ),
  );
  if (summary.totals.total === 0) {
    console.error(`ecp conformance: ${nothingSelected(args)}`);
    return EXIT_UNUSABLE;
  }
  return summary.verdict === 'pass' ? EXIT_PASSED : EXIT_FAILED;
}

/** Why a selection is empty, for a lab that has no scenarios (yet) as for anything else. */
function nothingSelected(args: ConformanceArgs): string {
  const lab = args.only && args.lab !== undefined ? findLab(args.lab) : undefined;
  if (lab?.bench)
    return `lab ${lab.number} (${lab.title}) has no scenarios: it is measured with ecp bench (${lab.page})`;
  return 'no scenario matches the selection (profile, lab, section and tags)';
}

/** The scenarios the arguments select. */
function selectionOf(args: ConformanceArgs): ScenarioSelection {
  return {
    profile: args.profile,
    ...(args.tags ? { tags: args.tags } : {}),
    ...(args.lab !== undefined ? { lab: args.lab, onlyLab: args.only } : {}),
    ...(args.section?.length ? { sections: args.section } : {}),
  };
}

async function list(args: ConformanceArgs): Promise<number> {
  let scenarios: Awaited<ReturnType<typeof planScenarios>>;
  try {
    scenarios = await planScenarios({
      ...selectionOf(args),
      ...(args.features?.length ? { features: args.features } : {}),
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    console.error(`ecp conformance: ${error.message}`);
    return EXIT_UNUSABLE;
  }
  if (args.uncovered) {
    const requirements = loadRequirements();
    const clientScenarios = await planScenarios({ ...selectionOf(args), party: 'client' });
    let failed = false;
    for (const [party, planned] of [
      ['server', scenarios],
      ['client', clientScenarios],
    ] as const) {
      const { uncovered, unknown } = traceRequirements(requirements, planned, party);
      for (const requirement of uncovered) console.log(`uncovered  ${formatRequirement(requirement)}`);
      for (const { id, location } of unknown) console.log(`unknown    ${id} named by ${location}`);
      const checkable = requirements.filter((item) => item.party === party && item.level !== 'MAY').length;
      console.log(
        `${checkable - uncovered.length}/${checkable} ${party} MUST and SHOULD requirements have a scenario; ${unknown.length} unknown IDs`,
      );
      failed ||= uncovered.length > 0 || unknown.length > 0;
    }
    return failed ? EXIT_FAILED : EXIT_PASSED;
  }
  if (args.client !== undefined) {
    scenarios = await planScenarios({ ...selectionOf(args), party: 'client' });
  }
  const width = (texts: string[]) => Math.max(0, ...texts.map((text) => text.length));
  const idsWidth = width(scenarios.map((item) => item.requirements.join(' ')));
  const locationWidth = width(scenarios.map((item) => item.location));
  for (const item of scenarios) {
    console.log(
      `${labName(item.labs.length === 1 ? item.labs[0] : undefined).padEnd(6)} ${(item.profile ?? '?').padEnd(10)} ${item.requirements.join(' ').padEnd(idsWidth)}  ${item.location.padEnd(locationWidth)}  ${item.name}`,
    );
  }
  console.log(`${scenarios.length} scenarios`);
  return EXIT_PASSED;
}

export const conformanceCommand: CommandModule<object, ConformanceArgs> = {
  command: 'conformance',
  describe: 'Check a server against the ECP v1 specification',
  builder,
  handler,
};
