/**
 * Grades one student server or client, in a process of its own (worker-main.ts): the conformance
 * support code keeps one session per process, and a run that goes wrong must cost one row only.
 * Each scenario and each lab is reported as it finishes.
 *
 * For each server: start it once and send one handshake (did it start, does it answer?), then
 * run each lab's scenarios on a fresh start of the server, rerunning failures (--repeat), and
 * note whether the server ended on its own during the lab. A client has no first start to probe:
 * the kit plays the room and starts the client (in the same sandbox script) once per scenario,
 * and whether it started, answered or ended is what the scenarios judge.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ConformanceRun, Requirement, ScenarioResult } from '../conformance/index.ts';
import type { Limits } from '../protocol/index.ts';
import { openTarget, type TargetSpec, type TargetTls } from '../server-under-test/index.ts';
import type { Endpoint } from '../transport/index.ts';
import type { FuzzGrade, GradedLab, HtmlReports, LabGrade } from './model.ts';
import { probeServer } from './probe.ts';
import type { SubmissionKind } from './roster.ts';
import { describeExitStatus, type SandboxFiles } from './sandbox.ts';
import { emptyLab, gradedScenario, labGrade } from './scoring.ts';

export interface WorkerJob {
  kind: SubmissionKind;
  student: string;
  /**
   * The sandboxed shell script (sandboxScript), with the placeholders still in it: a server's
   * `{port}` and `{password}`, a client's `{url}`, `{host}`, `{port}`, `{username}`, `{password}`.
   */
  script: string;
  /** Where the started server is reached (its port replaced); plain TCP on 127.0.0.1 when absent. */
  endpoint?: Endpoint;
  /** How the grader trusts a tls:// or wss:// server. */
  tls?: TargetTls;
  files: SandboxFiles;
  password: string;
  labs: GradedLab[];
  timeoutMs: number;
  limits: Partial<Limits>;
  repeat: number;
  flakyCredit: number;
  startTimeoutMs: number;
  /** How long the first handshake may wait for an answer. */
  probeTimeoutMs: number;
  html: HtmlReports;
  /** --fuzz: after the labs, this many seconds of generated histories with this seed. */
  fuzz?: { seconds: number; seed: number };
  /** Where this student's reports go, and the folder the report paths are relative to. */
  studentDir: string;
  outRoot: string;
}

export type WorkerEvent =
  | {
      kind: 'started';
      result: 'answered' | 'did-not-start' | 'no-answer' | 'crashed';
      note?: string;
      output?: string;
    }
  | { kind: 'scenario'; lab: number; status: string }
  | { kind: 'lab'; grade: LabGrade }
  | { kind: 'fuzz'; grade: FuzzGrade }
  | { kind: 'done' };

export async function gradeSubmission(job: WorkerJob, emit: (event: WorkerEvent) => void): Promise<void> {
  if (job.kind === 'client') return gradeClient(job, emit);
  const spec: TargetSpec = {
    kind: 'spawned',
    command: job.script,
    password: job.password,
    startTimeoutMs: job.startTimeoutMs,
    ...(job.endpoint === undefined ? {} : { endpoint: job.endpoint }),
    ...(job.tls === undefined ? {} : { tls: job.tls }),
  };
  const start = await firstStart(job, spec);
  emit(start);
  if (start.result === 'did-not-start' || start.result === 'no-answer') {
    for (const lab of job.labs) emit({ kind: 'lab', grade: emptyLab(lab, 'not-run') });
    emit({ kind: 'done' });
    return;
  }
  // Loaded only for a server that answers: cucumber and the step library take seconds to load.
  const kit = await import('../conformance/index.ts');
  const requirements = kit.loadRequirements();
  const run: LabRun = (selection) =>
    kit.runConformance({ target: spec, ...selection, timeoutMs: job.timeoutMs, limits: job.limits });
  for (const lab of job.labs) {
    emit({ kind: 'lab', grade: await gradeLab(kit, job, run, lab, requirements, emit) });
  }
  if (job.fuzz) emit({ kind: 'fuzz', grade: await fuzzSubmission(kit, job, spec, job.fuzz) });
  emit({ kind: 'done' });
}

/** A client through its labs: the kit plays the room over plain TCP, the client meets the driver contract. */
async function gradeClient(job: WorkerJob, emit: (event: WorkerEvent) => void): Promise<void> {
  const kit = await import('../conformance/index.ts');
  const requirements = kit.loadRequirements();
  const run: LabRun = (selection) =>
    kit.runClientConformance({
      command: job.script,
      output: 'json',
      transport: 'tcp',
      ...selection,
      timeoutMs: job.timeoutMs,
      startTimeoutMs: job.startTimeoutMs,
    });
  for (const lab of job.labs) {
    emit({ kind: 'lab', grade: await gradeLab(kit, job, run, lab, requirements, emit) });
  }
  emit({ kind: 'done' });
}

async function firstStart(
  job: WorkerJob,
  spec: TargetSpec,
): Promise<Extract<WorkerEvent, { kind: 'started' }>> {
  rmSync(job.files.exitFile, { force: true });
  let target: Awaited<ReturnType<typeof openTarget>>;
  try {
    target = await openTarget(spec);
  } catch (error) {
    const output = await saveOutput(job, 'start-output.txt', (error as { output?: string }).output ?? '');
    return { kind: 'started', result: 'did-not-start', note: startFailure(job, error as Error), output };
  }
  try {
    const answer = await probeServer(target, job.password, job.probeTimeoutMs);
    if (answer.kind === 'answered') return { kind: 'started', result: 'answered' };
    const crash = exitOf(job);
    const output = await saveOutput(job, 'start-output.txt', target.serverOutput());
    if (crash) {
      return { kind: 'started', result: 'crashed', note: `on the first handshake: ${crash}`, output };
    }
    if (answer.kind === 'unreachable') {
      return {
        kind: 'started',
        result: 'no-answer',
        note: `the grader could not connect: ${answer.reason}`,
        output,
      };
    }
    const what =
      answer.kind === 'closed'
        ? 'closed the connection without a word'
        : `sent nothing within ${job.probeTimeoutMs} ms`;
    return {
      kind: 'started',
      result: 'no-answer',
      note: `a handshake, with a wrong password or the right one: the server ${what}`,
      output,
    };
  } finally {
    await target.close();
  }
}

function startFailure(job: WorkerJob, error: Error): string {
  const exit = exitOf(job);
  // The kit's message quotes the whole sandbox script; say it in fewer words.
  if (exit === 'exited with code 97') return 'its folder cannot be entered';
  if (exit) return `it ${exit} before accepting connections`;
  return /within \d+ ms/.test(error.message)
    ? `it did not accept connections within ${job.startTimeoutMs} ms`
    : error.message;
}

type Kit = typeof import('../conformance/index.ts');

/** One run of a lab's scenarios (or some of them, on a rerun) against the server or client. */
type LabRun = (
  selection: ReturnType<typeof labSelection> & {
    locations?: string[];
    outDir?: string;
    onScenario?: (result: ScenarioResult) => void;
  },
) => Promise<ConformanceRun>;

async function gradeLab(
  { TargetUnavailableError, writeReports }: Kit,
  job: WorkerJob,
  runLab: LabRun,
  lab: GradedLab,
  requirements: readonly Requirement[],
  emit: (event: WorkerEvent) => void,
): Promise<LabGrade> {
  const labDir = join(job.studentDir, `lab-${lab.number}`);
  await mkdir(labDir, { recursive: true });
  const startedAt = Date.now();
  rmSync(job.files.exitFile, { force: true });
  let results: ScenarioResult[];
  const evidence = new Map<string, string[]>();
  try {
    const run = await runLab({
      ...labSelection(lab),
      outDir: labDir,
      onScenario: (result) => emit({ kind: 'scenario', lab: lab.number, status: result.status }),
    });
    const summary = await writeReports(labDir, run, requirements);
    for (const item of summary.scenarios) {
      if (item.evidence.length > 0)
        evidence.set(
          item.location,
          item.evidence.map((file) => join(labDir, file)),
        );
    }
    results = run.scenarios;
  } catch (error) {
    if (!(error instanceof TargetUnavailableError)) throw error;
    await writeFile(join(labDir, 'start-output.txt'), `${error.message}\n\n${error.output}`);
    return { ...emptyLab(lab, 'did-not-start'), durationMs: Date.now() - startedAt };
  }
  let crash = exitOf(job);

  // --repeat: rerun what failed; a scenario that passes on a rerun is flaky.
  const later = new Map<string, string[]>(results.map((result) => [result.location, []]));
  let failing = results.filter((result) => result.status !== 'passed' && result.status !== 'skipped');
  for (let attempt = 2; attempt <= job.repeat && failing.length > 0; attempt++) {
    rmSync(job.files.exitFile, { force: true });
    let rerun: ScenarioResult[];
    try {
      rerun = (await runLab({ ...labSelection(lab), locations: failing.map((result) => result.location) }))
        .scenarios;
    } catch (error) {
      if (!(error instanceof TargetUnavailableError)) throw error;
      break;
    }
    crash ??= exitOf(job);
    const statusAt = new Map(rerun.map((result) => [result.location, result.status]));
    for (const result of failing) later.get(result.location)?.push(statusAt.get(result.location) ?? 'failed');
    failing = failing.filter((result) => statusAt.get(result.location) !== 'passed');
  }

  const relativeTo = (file: string) => relative(job.outRoot, join(labDir, file));
  const grade = labGrade(
    lab,
    results.map((result) => {
      const scenario = gradedScenario(result, later.get(result.location));
      if (result.failure) scenario.failure = shorten(result.failure.message, MAX_FAILURE_CHARS);
      const files = evidence.get(result.location);
      if (files) scenario.evidence = files.map((file) => relative(job.outRoot, file));
      return scenario;
    }),
    job.flakyCredit,
    { status: crash ? 'crashed' : 'graded', durationMs: Date.now() - startedAt, ...(crash ? { crash } : {}) },
  );
  grade.reports = { summary: relativeTo('summary.json'), markdown: relativeTo('summary.md') };
  const keepHtml =
    job.html === 'all' || (job.html === 'failing' && grade.passed + grade.skipped < grade.total);
  if (keepHtml) grade.reports.html = relativeTo('cucumber.html');
  else rmSync(join(labDir, 'cucumber.html'), { force: true });
  return grade;
}

/** The fuzz column: generated histories on a fresh start of the server; the first failing one written out. */
async function fuzzSubmission(
  { featureText, fuzzServer, sessionFor, transcriptText }: Kit,
  job: WorkerJob,
  spec: TargetSpec,
  { seconds, seed }: { seconds: number; seed: number },
): Promise<FuzzGrade> {
  let target: Awaited<ReturnType<typeof openTarget>>;
  try {
    target = await openTarget(spec);
  } catch (error) {
    return { seconds, seed, histories: 0, error: `the server did not start: ${(error as Error).message}` };
  }
  try {
    const session = await sessionFor(target);
    const result = await fuzzServer(session, { seed, clients: 4, steps: 30, durationMs: seconds * 1000 });
    const grade: FuzzGrade = { seconds, seed, histories: result.histories };
    const finding = result.finding;
    if (!finding) return grade;
    const violation = finding.outcome.violations[0]!;
    grade.violation = { requirement: violation.requirement, text: violation.text };
    const dir = join(job.studentDir, 'fuzz');
    await mkdir(dir, { recursive: true });
    const feature = join(dir, `fuzz-${seed}-${finding.index}.feature`);
    const transcript = join(dir, `fuzz-${seed}-${finding.index}.transcript.txt`);
    // Not shrunk (that takes minutes per server): the history as found, repeated as a race needs.
    await writeFile(
      feature,
      featureText({
        history: finding.history,
        violation,
        repeats: 20,
        origin: `ecp grade --fuzz ${seconds} (seed ${seed}, history ${finding.index}) against ${job.student}'s server`,
      }),
    );
    await writeFile(transcript, transcriptText(finding.outcome.trace, finding.outcome.violations));
    grade.feature = relative(job.outRoot, feature);
    grade.transcript = relative(job.outRoot, transcript);
    return grade;
  } catch (error) {
    return { seconds, seed, histories: 0, error: (error as Error).message };
  } finally {
    await target.close();
  }
}

const MAX_FAILURE_CHARS = 1500;

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function labSelection(lab: GradedLab): { lab: number; onlyLab: true; tags?: string } {
  return { lab: lab.number, onlyLab: true, ...(lab.tags ? { tags: lab.tags } : {}) };
}

/**
 * How the server ended on its own since the exit file was last cleared, if it did. Not for a
 * client: it ends on its own after every scenario, and how it ended is for the scenario to judge.
 */
function exitOf(job: WorkerJob): string | undefined {
  if (job.kind === 'client' || !existsSync(job.files.exitFile)) return undefined;
  const status = Number(readFileSync(job.files.exitFile, 'utf8').trim());
  return Number.isInteger(status) ? describeExitStatus(status) : 'ended';
}

async function saveOutput(job: WorkerJob, file: string, output: string): Promise<string> {
  await mkdir(job.studentDir, { recursive: true });
  await writeFile(join(job.studentDir, file), output || '(the server printed nothing)\n');
  return relative(job.outRoot, join(job.studentDir, file));
}
