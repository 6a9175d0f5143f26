/**
 * Grades a class: every submission (a server, or a client) in a worker process of its own (worker.ts), `jobs` at a time,
 * each under a wall-clock cap. When the cap passes, the worker and the server it is running are
 * killed, and the row keeps the labs it finished. A worker that fails for a reason of its own
 * costs its row, never the run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_CLIENT_START_TIMEOUT_MS,
  DEFAULT_CLIENT_TIMEOUT_MS,
  LIMIT_FLAGS,
  limitsFromCommand,
} from '../conformance/index.ts';
import type { Limits } from '../protocol/index.ts';
import { OutputTail, stopWhenKitEnds, type TargetTls } from '../server-under-test/index.ts';
import { parseEndpoint } from '../transport/index.ts';
import type { FuzzGrade, GradedLab, HtmlReports, LabGrade, StudentGrade, Verdict } from './model.ts';
import type { Submission } from './roster.ts';
import { countUserProcesses, detectShellLimits, type ResourceLimits, sandboxScript } from './sandbox.ts';
import { emptyLab, totals, verdictOf } from './scoring.ts';
import type { WorkerEvent, WorkerJob } from './worker.ts';

/** From the sources, a plain-JS entry that registers tsx first; compiled (dist/), the worker itself. */
const WORKER_ENTRY = fileURLToPath(
  import.meta.url.endsWith('.ts')
    ? new URL('./worker-entry.js', import.meta.url)
    : new URL('./worker-main.js', import.meta.url),
);

export interface ClassGradingOptions {
  submissions: readonly Submission[];
  labs: readonly GradedLab[];
  /** For rows without a password of their own. */
  password: string;
  /** For rows without a target of their own: the URL with `{port}` servers are reached at. Default plain TCP. */
  target?: string;
  /** How the grader trusts tls:// and wss:// servers. */
  tls?: TargetTls;
  jobs: number;
  timeoutMs: number;
  limits: Partial<Limits>;
  repeat: number;
  flakyCredit: number;
  /** Wall-clock seconds one server may take through every lab. */
  capSeconds: number;
  resources: ResourceLimits;
  startTimeoutMs: number;
  probeTimeoutMs: number;
  /** Which labs keep cucumber's HTML report (the class report links to it). */
  html: HtmlReports;
  /** --fuzz: seconds of generated histories per server after the labs, and their seed. */
  fuzz?: { seconds: number; seed: number };
  outDir: string;
  onEvent?: (event: GradingEvent) => void;
}

export type GradingEvent =
  | { kind: 'student-started'; student: string }
  | { kind: 'scenario'; student: string; lab: number; status: string }
  | { kind: 'student-finished'; grade: StudentGrade };

export async function gradeClass(options: ClassGradingOptions): Promise<StudentGrade[]> {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'ecp-grade-'));
  const shell = detectShellLimits();
  const processesAlready = countUserProcesses();
  const folders = studentFolders(options.submissions);
  const grades: StudentGrade[] = [];
  const queue = [...options.submissions];
  /** Each running worker, and the pid file of the server it runs. */
  const running = new Map<ChildProcess, string>();
  const stopAll = () => {
    for (const [child, pidFile] of running) {
      child.kill('SIGKILL');
      killServerGroup(pidFile);
    }
  };
  // Ctrl-C reaches the workers too (one process group), but not the servers, each in a group of its
  // own: on a signal, or when the kit's parent dies, stop them, then end as the signal would have.
  const forget = stopWhenKitEnds({
    kill: () => {
      stopAll();
      rmSync(runtimeDir, { recursive: true, force: true });
    },
  });
  try {
    const lane = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const submission = next;
        options.onEvent?.({ kind: 'student-started', student: submission.student });
        const grade = await gradeOne(submission, {
          options,
          studentDir: join(options.outDir, 'students', folders.get(submission.row) ?? String(submission.row)),
          command: withLimitFlags(submission.command, options.limits),
          script: (command, files) =>
            sandboxScript(command, submission.dir, options.resources, files, shell, processesAlready),
          runtimeDir,
          running,
        });
        grades.push(grade);
        options.onEvent?.({ kind: 'student-finished', grade });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, lane));
  } finally {
    forget();
    rmSync(runtimeDir, { recursive: true, force: true });
  }
  return grades.sort((a, b) => a.row - b.row);
}

interface OneContext {
  options: ClassGradingOptions;
  studentDir: string;
  /** The roster's command with `{limits}` filled in. */
  command: string;
  script: (command: string, files: WorkerJob['files']) => string;
  runtimeDir: string;
  running: Map<ChildProcess, string>;
}

async function gradeOne(submission: Submission, context: OneContext): Promise<StudentGrade> {
  const { options } = context;
  const startedAt = Date.now();
  const base = {
    row: submission.row,
    student: submission.student,
    kind: submission.kind,
    dir: submission.dir,
    command: submission.command,
  };
  // A row is graded through the labs of its own kind only: server labs or client labs.
  const ownLabs = options.labs.filter((lab) => lab.party === submission.kind);
  if (ownLabs.length === 0) {
    // Nothing of this row's kind to run: say so rather than start it for nothing.
    const note = `no ${submission.kind} lab among the labs selected: ${options.labs.map((lab) => lab.number).join(', ')}`;
    return { ...base, verdict: 'graded', notes: [note], ...totals([]), durationMs: 0, labs: [] };
  }
  if (!existsSync(submission.dir)) {
    const labs = ownLabs.map((lab) => emptyLab(lab, 'not-run'));
    return {
      ...base,
      verdict: 'did-not-start',
      notes: [`its folder ${submission.dir} does not exist`],
      ...totals(labs),
      durationMs: 0,
      labs,
    };
  }
  const files = {
    pidFile: join(context.runtimeDir, `row-${submission.row}.pid`),
    exitFile: join(context.runtimeDir, `row-${submission.row}.exit`),
  };
  const client = submission.kind === 'client';
  const job: WorkerJob = {
    kind: submission.kind,
    student: submission.student,
    script: context.script(context.command, files),
    files,
    password: submission.password ?? options.password,
    ...(client ? {} : endpointOf(submission.target ?? options.target)),
    ...(options.tls === undefined || client ? {} : { tls: options.tls }),
    labs: ownLabs,
    // A client is a whole process to start and to react per scenario: the waits of ecp conformance
    // --client, unless the options ask for longer.
    timeoutMs: client ? Math.max(options.timeoutMs, DEFAULT_CLIENT_TIMEOUT_MS) : options.timeoutMs,
    // A server's limit flags are its limits, as for ecp conformance --spawn; --limits overrides.
    limits: { ...limitsFromCommand(context.command), ...options.limits },
    repeat: options.repeat,
    flakyCredit: options.flakyCredit,
    startTimeoutMs: client
      ? Math.max(options.startTimeoutMs, DEFAULT_CLIENT_START_TIMEOUT_MS)
      : options.startTimeoutMs,
    probeTimeoutMs: options.probeTimeoutMs,
    html: options.html,
    ...(options.fuzz ? { fuzz: options.fuzz } : {}),
    studentDir: context.studentDir,
    outRoot: options.outDir,
  };

  const received = new Map<number, LabGrade>();
  let start: Extract<WorkerEvent, { kind: 'started' }> | undefined;
  let fuzz: FuzzGrade | undefined;
  let done = false;
  let timedOut = false;
  let currentLab: number | undefined;
  const workerOutput = new OutputTail(16 * 1024);
  const child = fork(WORKER_ENTRY, [], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  context.running.set(child, files.pidFile);
  child.stderr?.on('data', (chunk: Buffer) => workerOutput.append(chunk));
  child.on('message', (event: WorkerEvent) => {
    if (event.kind === 'started') start = event;
    else if (event.kind === 'lab') {
      received.set(event.grade.lab, event.grade);
      currentLab = undefined;
    } else if (event.kind === 'scenario') {
      currentLab = event.lab;
      options.onEvent?.({
        kind: 'scenario',
        student: submission.student,
        lab: event.lab,
        status: event.status,
      });
    } else if (event.kind === 'fuzz') fuzz = event.grade;
    else if (event.kind === 'done') done = true;
  });
  const cap = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
    killServerGroup(files.pidFile);
  }, options.capSeconds * 1000);
  const exit = await new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.send(job);
  });
  clearTimeout(cap);
  context.running.delete(child);
  if (!done) killServerGroup(files.pidFile);

  const labs = ownLabs.map((lab) => received.get(lab.number) ?? emptyLab(lab, 'not-run'));
  const notes: string[] = [];
  let startVerdict: Verdict | undefined;
  if (start?.result === 'did-not-start' || start?.result === 'no-answer') {
    startVerdict = start.result;
    notes.push(
      start.result === 'did-not-start' ? `did not start: ${start.note}` : `no answer to ${start.note}`,
    );
  } else if (start?.result === 'crashed') {
    notes.push(`crashed ${start.note}`);
  }
  const lastLab = labs.at(-1)?.lab;
  for (const lab of labs) {
    if (lab.status === 'crashed') {
      notes.push(`lab ${lab.lab}: ${lab.crash}${lab.lab === lastLab ? '' : '; restarted for the next lab'}`);
    }
    if (lab.status === 'did-not-start') notes.push(`lab ${lab.lab}: the server did not start`);
  }
  if (timedOut) {
    const left = labs.filter((lab) => lab.status === 'not-run').map((lab) => lab.lab);
    notes.push(
      `stopped at the ${options.capSeconds} s wall-clock cap${currentLab ? ` during lab ${currentLab}` : ''}` +
        `${left.length > 0 ? `; not graded: lab ${left.join(', ')}` : ''}`,
    );
  } else if (!done) {
    notes.push(`the grader's worker failed (exit code ${exit}): ${lastLine(workerOutput.text())}`);
  }
  const grade: StudentGrade = {
    ...base,
    verdict: verdictOf(labs, startVerdict ?? (start?.result === 'crashed' ? 'crashed' : undefined), timedOut),
    notes,
    ...totals(labs),
    durationMs: Date.now() - startedAt,
    labs,
  };
  if (fuzz) grade.fuzz = fuzz;
  if (start?.output) grade.output = start.output;
  return grade;
}

/** Ends the server the worker was running when it was killed: its group, from the wrapper's pid file. */
function killServerGroup(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  for (let i = 0; i < 3; i++) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      return; // gone
    }
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines.at(-1)?.slice(0, 300) ?? '';
}

/**
 * Limits whose flag a server may take but need not (protocol.md section 15): `{limits}` leaves them
 * out, since a server that does not know the flag would refuse to start. Write them in the
 * command of the rows whose servers take them; the kit reads them from there.
 */
const OPTIONAL_LIMITS: ReadonlySet<keyof Limits> = new Set(['slowReaderTimeoutMs']);

/** `{limits}` in a command: the contract's flag for each limit of `--limits` (protocol.md section 15). */
export function withLimitFlags(command: string, limits: Partial<Limits>): string {
  const flags = (Object.entries(limits) as [keyof Limits, number][])
    .filter(([name]) => !OPTIONAL_LIMITS.has(name))
    .map(([name, value]) => `${LIMIT_FLAGS[name]} ${value}`)
    .join(' ');
  return command.replaceAll('{limits}', flags);
}

/**
 * One folder per student under students/: the roster row, then a readable name (`007-alice`).
 * The row makes it unique, across the shards of one roster too, so merged shards never clash.
 */
function studentFolders(submissions: readonly Submission[]): Map<number, string> {
  const folders = new Map<number, string>();
  for (const submission of submissions) {
    const name = submission.student
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|-+$/g, '')
      .slice(0, 60);
    folders.set(submission.row, `${String(submission.row).padStart(3, '0')}${name ? `-${name}` : ''}`);
  }
  return folders;
}

/** The worker's endpoint for a target URL with `{port}` (its port is the started server's). */
function endpointOf(template: string | undefined): Pick<WorkerJob, 'endpoint'> {
  if (template === undefined) return {};
  return { endpoint: { ...parseEndpoint(template.replaceAll('{port}', '0')), port: 0 } };
}
