/**
 * `ecp grade ROSTER --out DIR`: runs every server of a roster through the selected labs and
 * writes the class report (index.html), the gradebook (grades.csv) and grades.json.
 * `ecp grade merge DIR... --out DIR` joins the outputs of shards.
 * Exit codes: 0 graded (whatever the students' verdicts), 2 the roster, weights or options are
 * wrong.
 */
import { createHash, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import {
  findLab,
  LABS,
  type Lab,
  limitsFromCommand,
  parseLimitsOption,
  planScenarios,
  slowReaderTimeoutWarning,
} from '../conformance/index.ts';
import { DEFAULT_LIMITS, type Limits } from '../protocol/index.ts';
import { type TargetTls, tlsFrom } from '../server-under-test/index.ts';
import { TransportError } from '../transport/index.ts';
import { GRADE_FILES, writeGrades } from './gradebook.ts';
import { gradeClass } from './grader.ts';
import { mergeGrades } from './merge.ts';
import {
  GRADES_SCHEMA,
  type GradedLab,
  type GradesFile,
  HTML_REPORTS,
  type HtmlReports,
  type StudentGrade,
} from './model.ts';
import { gradingProgress } from './progress.ts';
import {
  checkTargetTemplate,
  loadRoster,
  parseShard,
  RosterError,
  type Shard,
  type Submission,
  type SubmissionKind,
  selectShard,
} from './roster.ts';
import { DEFAULT_RESOURCE_LIMITS, detectShellLimits } from './sandbox.ts';
import { DEFAULT_FLAKY_CREDIT, DEFAULT_LAB_WEIGHT, loadWeights, type Weights } from './weights.ts';

export const EXIT_GRADED = 0;
export const EXIT_UNUSABLE = 2;

interface GradeArgs {
  roster: string;
  out: string;
  password: string;
  target: string | undefined;
  ca: string | undefined;
  insecure: boolean;
  labs: string | undefined;
  lab: number | undefined;
  only: boolean;
  tags: string | undefined;
  weights: string | undefined;
  jobs: number;
  timeout: number;
  limits: string | undefined;
  repeat: number;
  cap: number;
  cpu: number;
  memory: number;
  processes: number;
  'start-timeout': number;
  shard: string | undefined;
  html: HtmlReports;
  fuzz: number;
  'fuzz-seed': number | undefined;
}

/**
 * The labs `ecp grade` runs: those with scenarios over plain TCP, server labs for server rows and
 * client labs for client rows. Not lab 8 (measured with ecp bench), nor the optional transport
 * labs (9 TLS, 10 WebSocket), which need a server started on that transport: check those with
 * ecp conformance --transport.
 */
export function gradableLabs(): Lab[] {
  return LABS.filter((lab) => !lab.bench && !lab.optional);
}

/**
 * Set by `ecp grade` itself, not by its default command: yargs prints the usage of both when both
 * have one, and a subcommand's (merge) replaces it.
 */
const USAGE =
  '$0 grade ROSTER --out DIR [options]\n\nRun every server or client of a roster (CSV: student,dir,command[,password,target,kind]; or\n' +
  'YAML) through the labs and write a class report (index.html), a gradebook (grades.csv) and grades.json.\n' +
  'In a server command, {port} is a free port, {password} the password, {limits} the limit flags;\n' +
  'a client row (kind client) takes the placeholders of ecp conformance --client.';

function builder(yargs: Argv): Argv<GradeArgs> {
  return yargs
    .positional('roster', { type: 'string', describe: 'The roster file (.csv, .yaml or .yml)' })
    .options({
      out: { type: 'string', default: 'grades', describe: 'Folder for the class report and gradebook' },
      password: { type: 'string', default: 'secret123', describe: 'Server password, for rows without one' },
      target: {
        type: 'string',
        describe:
          'Where started servers are reached, for rows without a target: a URL with {port}, e.g. ws://127.0.0.1:{port}/ecp or tls://127.0.0.1:{port} [default: tcp]',
      },
      ca: { type: 'string', describe: 'TLS: trust this CA certificate (PEM file) to verify the servers' },
      insecure: { type: 'boolean', default: false, describe: "TLS: do not verify the servers' certificates" },
      labs: { type: 'string', describe: 'Labs to grade, e.g. 1,2,3 (default: every lab with scenarios)' },
      lab: { type: 'number', describe: 'Lab N and the labs before it' },
      only: { type: 'boolean', default: false, describe: 'With --lab N: lab N alone' },
      tags: { type: 'string', describe: 'A cucumber tag expression narrowing every lab' },
      weights: { type: 'string', describe: 'Points per lab and flaky credit (JSON or YAML)' },
      jobs: { type: 'number', default: 4, describe: 'Servers graded at a time' },
      timeout: { type: 'number', default: 2, describe: 'Seconds each expectation waits' },
      limits: {
        type: 'string',
        describe:
          "The limits the servers run with (e.g. handshakeTimeoutMs=1000); '{limits}' passes them as flags",
      },
      repeat: {
        type: 'number',
        default: 1,
        describe: 'Run each failing scenario up to K times in all; passing sometimes is flaky',
      },
      cap: {
        type: 'number',
        default: 600,
        describe: 'Wall-clock seconds one server may take through every lab',
      },
      cpu: {
        type: 'number',
        default: DEFAULT_RESOURCE_LIMITS.cpuSeconds,
        describe: 'CPU seconds per server process',
      },
      memory: {
        type: 'number',
        default: DEFAULT_RESOURCE_LIMITS.memoryMb,
        describe: 'Address space per server process, MiB',
      },
      processes: {
        type: 'number',
        default: DEFAULT_RESOURCE_LIMITS.processes,
        describe: 'Processes a server may add (not enforced for root)',
      },
      'start-timeout': {
        type: 'number',
        default: 10,
        describe: 'Seconds a server may take to accept connections',
      },
      shard: { type: 'string', describe: 'K/N: grade rows K, K+N, K+2N, ... (merge with ecp grade merge)' },
      fuzz: {
        type: 'number',
        default: 0,
        describe: 'Then fuzz each server for this many seconds (ecp fuzz): a fuzz column in the report',
      },
      'fuzz-seed': {
        type: 'number',
        describe: 'With --fuzz: the seed every server gets (random when not given)',
      },
      html: {
        choices: HTML_REPORTS,
        default: 'failing' as HtmlReports,
        describe: "Keep cucumber's HTML report (1.5 MB each) for every lab, labs with a failure, or none",
      },
    })
    .example('$0 grade roster.csv --out grades', 'every lab, 4 servers at a time')
    .example(
      '$0 grade roster.csv --lab 3 --limits handshakeTimeoutMs=1000 --jobs 4',
      'labs 1-3, servers started with {limits} in their command',
    )
    .example('$0 grade roster.csv --fuzz 30', 'and 30 s of ecp fuzz per server: who has races')
    .example('$0 grade roster.csv --shard 2/4 --out shard-2', 'the second of four shards')
    .example(
      '$0 grade roster.csv --target "wss://127.0.0.1:{port}/ecp" --ca ca.pem',
      'servers that speak WebSocket over TLS',
    )
    .check((args) => {
      for (const name of ['jobs', 'repeat', 'cap', 'cpu', 'memory', 'processes'] as const) {
        if (!Number.isInteger(args[name]) || args[name] < 1) {
          throw new Error(`--${name} must be a whole number >= 1, got ${args[name]}`);
        }
      }
      if (!(args.timeout > 0))
        throw new Error(`--timeout must be a positive number of seconds, got ${args.timeout}`);
      if (!(args['start-timeout'] > 0))
        throw new Error('--start-timeout must be a positive number of seconds');
      if (args.only && args.lab === undefined) throw new Error('--only goes with --lab N');
      if (!(Number.isFinite(args.fuzz) && args.fuzz >= 0))
        throw new Error(`--fuzz must be a number of seconds >= 0, got ${args.fuzz}`);
      const seed = args['fuzz-seed'];
      if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32))
        throw new Error(`--fuzz-seed must be a whole number from 0 to 2^32-1, got ${seed}`);
      if (args.labs !== undefined && args.lab !== undefined)
        throw new Error('--labs and --lab are two ways to say one thing');
      return true;
    })
    .fail((message, error) => {
      if (error && !message) throw error;
      console.error(`ecp grade: ${message ?? error?.message}\nSee: ecp grade --help`);
      process.exit(EXIT_UNUSABLE);
    }) as unknown as Argv<GradeArgs>;
}

/** The labs the options select, with their weights. Throws a RangeError people can read. */
export function selectLabs(
  args: Pick<GradeArgs, 'labs' | 'lab' | 'only' | 'tags'>,
  weights: Weights | undefined,
  /** The kinds of the roster's rows: by default, only the labs of those parties. */
  kinds: ReadonlySet<SubmissionKind> = new Set(['server']),
): GradedLab[] {
  let numbers: number[];
  if (args.labs !== undefined) {
    numbers = args.labs.split(',').map((item) => {
      const n = Number(item.trim());
      if (!Number.isInteger(n))
        throw new RangeError(`--labs takes lab numbers separated by commas, got '${args.labs}'`);
      return n;
    });
  } else if (args.lab !== undefined) {
    if (!findLab(args.lab))
      throw new RangeError(
        `there is no lab ${args.lab}; the labs are ${LABS.map((lab) => lab.number).join(', ')}`,
      );
    const party = findLab(args.lab)!.party;
    numbers = args.only
      ? [args.lab]
      : gradableLabs()
          .filter((lab) => lab.party === party && lab.number <= args.lab!)
          .map((lab) => lab.number);
  } else if (weights) {
    numbers = [...weights.labs.keys()].sort((a, b) => a - b);
  } else {
    numbers = gradableLabs()
      .filter((lab) => kinds.has(lab.party))
      .map((lab) => lab.number);
  }
  return [...new Set(numbers)].map((n) => {
    const lab = findLab(n);
    if (!lab)
      throw new RangeError(
        `there is no lab ${n}; the labs are ${LABS.map((item) => item.number).join(', ')}`,
      );
    if (lab.bench)
      throw new RangeError(`lab ${n} (${lab.title}) is measured with ecp bench, not graded by scenarios`);
    if (lab.optional) {
      throw new RangeError(
        `lab ${n} (${lab.title}) runs over another transport than TCP: check it with ecp conformance --lab ${n} --only --transport`,
      );
    }
    const weight = weights ? weights.labs.get(n) : DEFAULT_LAB_WEIGHT;
    if (weight === undefined) throw new RangeError(`the weights file gives no points for lab ${n}`);
    return {
      number: n,
      title: lab.title,
      party: lab.party,
      weight,
      ...(args.tags ? { tags: args.tags } : {}),
    };
  });
}

/** The requirements whose scenarios judge a burst against the servers' slow-reader timeouts. */
function isBurstRequirement(id: string): boolean {
  return id === 'ECP-LIM-07' || id === 'ECP-LIM-08';
}

/**
 * The warnings, one per short timeout, for the servers that declare a slow-reader timeout too
 * short for the kit to judge their bursts on a busy machine (conformance/judgeable-timeout.ts):
 * their rows may differ from run to run. A server's timeout is its command's flag, or the
 * specification's default, unless `--limits` gives one (as the grader reads them).
 */
export function shortSlowReaderTimeoutWarnings(
  submissions: readonly Submission[],
  limits: Partial<Limits>,
): string[] {
  const byTimeout = new Map<number, string[]>();
  for (const row of submissions) {
    if (row.kind !== 'server') continue;
    const timeout =
      limits.slowReaderTimeoutMs ??
      limitsFromCommand(row.command).slowReaderTimeoutMs ??
      DEFAULT_LIMITS.slowReaderTimeoutMs;
    if (slowReaderTimeoutWarning({ slowReaderTimeoutMs: timeout }) === undefined) continue;
    byTimeout.set(timeout, [...(byTimeout.get(timeout) ?? []), row.student]);
  }
  return [...byTimeout].map(([timeout, students]) => {
    const who =
      students.length > 3
        ? `${students.slice(0, 3).join(', ')} and ${students.length - 3} more`
        : students.join(', ');
    return `ecp grade: warning: ${who}: ${slowReaderTimeoutWarning({ slowReaderTimeoutMs: timeout })}.`;
  });
}

async function handler(args: GradeArgs): Promise<void> {
  process.exitCode = await runGradeCommand(args);
}

export async function runGradeCommand(args: GradeArgs): Promise<number> {
  let submissions: ReturnType<typeof loadRoster>;
  let labs: GradedLab[];
  let weights: Weights | undefined;
  let limits: Partial<Limits>;
  let shard: Shard | undefined;
  let tls: TargetTls | undefined;
  try {
    if (args.target !== undefined) checkTargetTemplate(args.target);
    tls = tlsFrom(args);
    weights = args.weights ? loadWeights(args.weights) : undefined;
    limits = args.limits ? parseLimitsOption(args.limits) : {};
    submissions = loadRoster(args.roster);
    // The whole roster's kinds, before --shard: every shard of a roster grades the same labs.
    labs = selectLabs(args, weights, new Set(submissions.map((submission) => submission.kind)));
    if (args.shard) {
      shard = parseShard(args.shard);
      submissions = selectShard(submissions, shard);
    }
  } catch (error) {
    if (error instanceof RangeError || error instanceof RosterError || error instanceof TransportError) {
      console.error(`ecp grade: ${error.message}`);
      return EXIT_UNUSABLE;
    }
    throw error;
  }
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  // One seed for the whole class, so every server meets the same histories.
  const fuzz =
    args.fuzz > 0 ? { seconds: args.fuzz, seed: args['fuzz-seed'] ?? randomInt(2 ** 32) } : undefined;
  const planned = await Promise.all(
    labs.map((lab) =>
      planScenarios({
        lab: lab.number,
        onlyLab: true,
        party: lab.party,
        ...(lab.tags ? { tags: lab.tags } : {}),
      }),
    ),
  );
  const perLab = planned.map((scenarios) => scenarios.length);
  const resources = { cpuSeconds: args.cpu, memoryMb: args.memory, processes: args.processes };
  const shell = detectShellLimits();
  const jobs = args.jobs;
  console.log(
    `ECP grade · ${countRows(submissions)}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}` +
      ` · labs ${labs.map((lab) => lab.number).join(', ')} (${perLab.reduce((a, b) => a + b, 0)} scenarios)` +
      ` · ${jobs} at a time on ${availableParallelism()} cores · cap ${args.cap} s` +
      `${fuzz ? ` · fuzz ${fuzz.seconds} s each (seed ${fuzz.seed})` : ''}`,
  );
  console.log(
    `Each ${submissions.every((row) => row.kind === 'client') ? 'client' : 'server'}: ${[
      shell.cpu ? `${resources.cpuSeconds} CPU s` : '',
      shell.memory ? `${resources.memoryMb} MiB` : '',
      shell.processesEnforced
        ? `${resources.processes} more processes`
        : 'no process limit (root ignores it)',
    ]
      .filter(Boolean)
      .join(
        ', ',
      )}; its own process group${submissions.some((row) => row.kind === 'client') ? ' (a client: at each of its runs)' : ''}`,
  );
  const judgesBursts = planned.flat().some((scenario) => scenario.requirements.some(isBurstRequirement));
  if (judgesBursts)
    for (const warning of shortSlowReaderTimeoutWarnings(submissions, limits)) console.error(warning);
  const progress = gradingProgress(
    new Map(
      submissions.map((row) => [
        row.student,
        labs.reduce((sum, lab, index) => sum + (lab.party === row.kind ? (perLab[index] ?? 0) : 0), 0),
      ]),
    ),
  );
  let grades: StudentGrade[];
  try {
    grades = await gradeClass({
      submissions,
      labs,
      password: args.password,
      ...(args.target === undefined ? {} : { target: args.target }),
      ...(tls === undefined ? {} : { tls }),
      jobs,
      timeoutMs: args.timeout * 1000,
      limits,
      repeat: args.repeat,
      flakyCredit: weights?.flaky ?? DEFAULT_FLAKY_CREDIT,
      capSeconds: args.cap,
      resources,
      startTimeoutMs: args['start-timeout'] * 1000,
      probeTimeoutMs: Math.max(2000, args.timeout * 1000),
      html: args.html,
      ...(fuzz ? { fuzz } : {}),
      outDir,
      onEvent: (event) => progress.onEvent(event),
    });
  } finally {
    progress.stop();
  }
  const file: GradesFile = {
    schema: GRADES_SCHEMA,
    generatedAt: new Date().toISOString(),
    roster: args.roster,
    rosterSha256: createHash('sha256').update(readFileSync(args.roster)).digest('hex'),
    options: {
      labs: labs.map((lab) => lab.number),
      tags: args.tags ?? null,
      repeat: args.repeat,
      timeoutMs: args.timeout * 1000,
      limits,
      capSeconds: args.cap,
      resources,
      flakyCredit: weights?.flaky ?? DEFAULT_FLAKY_CREDIT,
      html: args.html,
      shard: shard ?? null,
      target: args.target ?? null,
      fuzz: fuzz ?? null,
    },
    labs: labs.map((lab, index) => ({
      number: lab.number,
      title: lab.title,
      party: lab.party,
      weight: lab.weight,
      scenarios: perLab[index] ?? 0,
    })),
    students: grades,
  };
  await writeGrades(outDir, file);
  console.log(formatTable(file));
  const shown = (name: string) => relative(process.cwd(), join(outDir, name)) || name;
  console.log(
    `Class report: ${shown(GRADE_FILES.html)} · gradebook: ${shown(GRADE_FILES.csv)} · ${shown(GRADE_FILES.json)}`,
  );
  return EXIT_GRADED;
}

/** `3 servers`, `2 clients`, `3 servers, 2 clients`. */
function countRows(submissions: readonly { kind: SubmissionKind }[]): string {
  const clients = submissions.filter((row) => row.kind === 'client').length;
  const servers = submissions.length - clients;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  if (clients === 0) return count(servers, 'server');
  return servers === 0
    ? count(clients, 'client')
    : `${count(servers, 'server')}, ${count(clients, 'client')}`;
}

/** The gradebook as a table for the terminal. */
export function formatTable(file: GradesFile): string {
  const fuzzed = Boolean(file.options.fuzz);
  const mixed = new Set(file.students.map((student) => student.kind)).size > 1;
  const header = [
    'student',
    ...(mixed ? ['kind'] : []),
    ...file.labs.map((lab) => `lab ${lab.number}`),
    'total',
    ...(fuzzed ? ['fuzz'] : []),
    'verdict',
  ];
  const rows = file.students.map((student) => [
    student.student,
    ...(mixed ? [student.kind] : []),
    ...file.labs.map((lab) => {
      // Blank: not this row's lab (a client lab on a server row, or the other way round).
      if (lab.party !== student.kind) return '';
      const grade = student.labs.find((item) => item.lab === lab.number);
      return !grade || grade.status === 'not-run' || grade.status === 'did-not-start'
        ? '-'
        : String(grade.points);
    }),
    `${student.total}/${student.possible}`,
    ...(fuzzed ? [fuzzSummary(student.fuzz)] : []),
    student.verdict + (student.notes.length > 0 ? ` (${student.notes[0]})` : ''),
  ]);
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return ['', line(header), ...rows.map(line)].join('\n');
}

/** The fuzz column: `clean`, the requirement a history broke, or `-` when the fuzz did not run. */
function fuzzSummary(fuzz: StudentGrade['fuzz']): string {
  if (!fuzz || fuzz.error) return '-';
  return fuzz.violation ? fuzz.violation.requirement : 'clean';
}

interface MergeArgs {
  dirs: string[];
  out: string;
}

const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <dirs..>',
  describe: 'Join the outputs of shards (--shard K/N) into one class report',
  builder: (yargs) =>
    yargs
      .positional('dirs', { type: 'string', array: true, describe: 'The shards’ output folders' })
      .options({ out: { type: 'string', default: 'grades', describe: 'Folder for the merged report' } })
      .example(
        '$0 grade merge shard-1 shard-2 shard-3 --out grades',
        'one class report from three shards',
      ) as Argv<MergeArgs>,
  handler: async (args) => {
    try {
      const merged = await mergeGrades(args.dirs, args.out);
      console.log(formatTable(merged));
      console.log(
        `Merged ${args.dirs.length} shards, ${merged.students.length} servers: ${join(args.out, GRADE_FILES.html)}`,
      );
      process.exitCode = EXIT_GRADED;
    } catch (error) {
      console.error(`ecp grade merge: ${(error as Error).message}`);
      process.exitCode = EXIT_UNUSABLE;
    }
  },
};

const gradeRosterCommand: CommandModule<object, GradeArgs> = {
  command: '$0 <roster>',
  describe: 'Grade every server of a roster',
  builder,
  handler,
};

export const gradeCommand: CommandModule = {
  command: 'grade',
  describe: 'Grade a class of servers through the labs: class report, gradebook, grades.json',
  builder: (yargs) => yargs.usage(USAGE).command(mergeCommand).command(gradeRosterCommand),
  handler: () => {},
};
