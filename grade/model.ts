/**
 * What grading produces, in `grades.json` (schema `ecp-grade/1`, documented in docs/grading.md):
 * per student a verdict, notes, and per lab the points, the tally and every scenario's outcome.
 */
import type { ScenarioOutcome } from '../conformance/index.ts';
import type { Limits } from '../protocol/index.ts';
import type { SubmissionKind } from './roster.ts';
import type { ResourceLimits } from './sandbox.ts';

export const GRADES_SCHEMA = 'ecp-grade/1';

/** A lab as the grader runs it: the scenarios tagged `@lab-N`. */
export interface GradedLab {
  number: number;
  title: string;
  /** Whose lab it is: server rows are graded through server labs, client rows through client labs. */
  party: SubmissionKind;
  /** Points for passing every scenario of the lab. */
  weight: number;
  /** A cucumber tag expression that narrows the lab's scenarios further (`--tags`). */
  tags?: string;
}

/**
 * - `graded`: the server ran every selected lab (however many scenarios it passed);
 * - `did-not-start`: it never accepted connections (no points);
 * - `no-answer`: it accepted connections but answered no valid handshake (no points);
 * - `crashed`: it ended on its own during a lab; restarted for the next, it keeps its points;
 * - `timed-out`: it hit the wall-clock cap; it keeps the points of the labs it finished.
 */
export type Verdict = 'graded' | 'did-not-start' | 'no-answer' | 'crashed' | 'timed-out';

/** `flaky`: failed, then passed on a rerun (--repeat), or the other way round. */
export type { ScenarioOutcome };

export interface GradedScenario {
  location: string;
  name: string;
  requirements: string[];
  outcome: ScenarioOutcome;
  /** The status of every attempt, first run first. */
  attempts: string[];
  /** What the first failing attempt said (requirement, expected, actual, hint), shortened. */
  failure?: string;
  /** The first failing attempt's transcripts and server output, relative to the output folder. */
  evidence?: string[];
}

/**
 * - `graded`: every scenario ran;
 * - `crashed`: the server ended on its own during the lab (later scenarios may have failed for it);
 * - `did-not-start`: the server did not start for this lab;
 * - `not-run`: the lab was not reached (no answer, or the wall-clock cap).
 */
export type LabStatus = 'graded' | 'crashed' | 'did-not-start' | 'not-run';

export interface LabGrade {
  lab: number;
  status: LabStatus;
  points: number;
  weight: number;
  passed: number;
  failed: number;
  flaky: number;
  skipped: number;
  total: number;
  durationMs: number;
  /** How the server ended, when it crashed during this lab. */
  crash?: string;
  /**
   * Paths relative to the output folder: the conformance reports of this lab. `html` (cucumber's
   * report, 1.5 MB with its viewer inlined) is kept as `--html` says: by default for a lab with
   * a scenario that did not pass.
   */
  reports?: { html?: string; summary: string; markdown: string };
  scenarios: GradedScenario[];
}

/** `ecp grade --fuzz SECONDS`: what generated concurrent histories found against the server. */
export interface FuzzGrade {
  seconds: number;
  seed: number;
  /** Histories run. */
  histories: number;
  /** The first rule a history broke; absent when the server fuzzed clean. */
  violation?: { requirement: string; text: string };
  /** Relative to the output folder: the failing history as a .feature, and its transcript. */
  feature?: string;
  transcript?: string;
  /** Why the fuzz could not run (the server did not start for it). */
  error?: string;
}

export interface StudentGrade {
  row: number;
  student: string;
  /** Server or client: `labs` holds only the selected labs of that party. */
  kind: SubmissionKind;
  dir: string;
  command: string;
  verdict: Verdict;
  /** For people: why the verdict, which lab crashed and how. */
  notes: string[];
  total: number;
  /** The maximum of `total`: the weights of the row's own labs (those of its kind). */
  possible: number;
  durationMs: number;
  labs: LabGrade[];
  /** With --fuzz: what the fuzz found (not counted in the total). */
  fuzz?: FuzzGrade;
  /** Relative to the output folder: what the server printed when it did not start or answer. */
  output?: string;
}

export interface GradeOptionsRecord {
  labs: number[];
  tags: string | null;
  repeat: number;
  timeoutMs: number;
  limits: Partial<Limits>;
  capSeconds: number;
  resources: ResourceLimits;
  flakyCredit: number;
  html: HtmlReports;
  shard: { index: number; count: number } | null;
  /** --fuzz: seconds of fuzzing per server, and the seed every server got (null: no fuzz). */
  fuzz?: { seconds: number; seed: number } | null;
  /** --target: where servers of rows without a target of their own were reached (null: plain TCP). */
  target?: string | null;
}

/** Which labs keep cucumber's HTML report: every lab, the labs with a scenario that did not pass, none. */
export type HtmlReports = 'all' | 'failing' | 'none';
export const HTML_REPORTS: readonly HtmlReports[] = ['all', 'failing', 'none'];

export interface GradesFile {
  schema: typeof GRADES_SCHEMA;
  generatedAt: string;
  /** The roster file as given, and the SHA-256 of its bytes (shards of one roster share it). */
  roster: string;
  rosterSha256: string;
  options: GradeOptionsRecord;
  /** Every lab selected; a row is graded through those whose party is its kind. */
  labs: { number: number; title: string; party: SubmissionKind; weight: number; scenarios: number }[];
  students: StudentGrade[];
}
