/**
 * The roster: one row per student server or client. CSV with the header `student,dir,command` (and
 * an optional `password`, `target` and `kind`), or YAML (a list of rows, or `{ students: [...] }`).
 * A `dir` is relative to the roster's folder; a `target` is the URL the started server is reached
 * at, with `{port}` (`ws://127.0.0.1:{port}/ecp`), for a server that speaks TLS or WebSocket. A
 * `kind` is `server` (the default) or `client`: a client row's command starts a client, with the
 * placeholders of `ecp conformance --client`, and is graded through the client labs.
 * `--shard K/N` keeps every N-th row starting at the K-th.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseEndpoint } from '../transport/index.ts';

/** What a row names: a server (graded through the server labs) or a client (the client labs). */
export type SubmissionKind = 'server' | 'client';
export const SUBMISSION_KINDS: readonly SubmissionKind[] = ['server', 'client'];

export interface Submission {
  /** 1-based position in the roster file, so shards and merges keep the roster's order. */
  row: number;
  student: string;
  kind: SubmissionKind;
  /** Absolute working directory of the command. */
  dir: string;
  /**
   * Shell command. A server's: `{port}`, `{password}` and `{limits}` are filled in by the grader;
   * a client's: `{url}`, `{host}`, `{port}`, `{username}` and `{password}`, for each scenario.
   */
  command: string;
  /** The row's own password, where it overrides `--password`. */
  password?: string;
  /** The row's own target URL with `{port}`, where it overrides `--target`. */
  target?: string;
}

/** A roster the grader cannot use: says which row and why. */
export class RosterError extends Error {
  override readonly name = 'RosterError';
}

const REQUIRED_COLUMNS = ['student', 'dir', 'command'] as const;
const KNOWN_COLUMNS = new Set<string>([...REQUIRED_COLUMNS, 'password', 'target', 'kind']);

export function loadRoster(path: string): Submission[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RosterError(`cannot read the roster ${path}: ${(error as Error).message}`);
  }
  const base = dirname(resolve(path));
  const ext = extname(path).toLowerCase();
  const records = ext === '.yaml' || ext === '.yml' ? yamlRecords(text) : csvRecords(text);
  return checkRecords(records, base);
}

type RosterRecord = Record<string, unknown>;

function csvRecords(text: string): RosterRecord[] {
  const rows = parseCsv(text).filter((cells) => cells.some((cell) => cell.trim() !== ''));
  const header = rows.shift()?.map((cell) => cell.trim().toLowerCase());
  if (!header) throw new RosterError('the roster is empty: expected the header student,dir,command');
  const missing = REQUIRED_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new RosterError(
      `the roster's header lacks ${missing.join(', ')}: expected student,dir,command (and optionally password, target, kind)`,
    );
  }
  const unknown = header.filter((column) => !KNOWN_COLUMNS.has(column));
  if (unknown.length > 0) {
    throw new RosterError(`unknown roster column(s) ${unknown.join(', ')}: known are ${[...KNOWN_COLUMNS]}`);
  }
  return rows.map((cells, index) => {
    if (cells.length !== header.length) {
      throw new RosterError(
        `roster row ${index + 1}: ${cells.length} fields where the header has ${header.length}`,
      );
    }
    return Object.fromEntries(header.map((column, at) => [column, cells[at]]));
  });
}

function yamlRecords(text: string): RosterRecord[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new RosterError(`the roster is not valid YAML: ${(error as Error).message}`);
  }
  const list =
    document && typeof document === 'object' && !Array.isArray(document) && 'students' in document
      ? (document as { students: unknown }).students
      : document;
  if (!Array.isArray(list)) {
    throw new RosterError('a YAML roster is a list of {student, dir, command}, or {students: [...]}');
  }
  return list.map((item, index) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      throw new RosterError(`roster row ${index + 1}: expected a mapping with student, dir and command`);
    }
    const unknown = Object.keys(item).filter((key) => !KNOWN_COLUMNS.has(key));
    if (unknown.length > 0) throw new RosterError(`roster row ${index + 1}: unknown key(s) ${unknown}`);
    return item as RosterRecord;
  });
}

function checkRecords(records: RosterRecord[], base: string): Submission[] {
  const seen = new Set<string>();
  return records.map((record, index) => {
    const row = index + 1;
    const field = (name: string): string | undefined => {
      const value = record[name];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new RosterError(`roster row ${row}: ${name} must be text`);
      }
      return String(value).trim();
    };
    const student = field('student');
    const dir = field('dir');
    const command = field('command');
    if (!student) throw new RosterError(`roster row ${row}: student is empty`);
    if (!dir) throw new RosterError(`roster row ${row} (${student}): dir is empty`);
    if (!command) throw new RosterError(`roster row ${row} (${student}): command is empty`);
    const kind = field('kind')?.toLowerCase() || 'server';
    if (!SUBMISSION_KINDS.includes(kind as SubmissionKind)) {
      throw new RosterError(
        `roster row ${row} (${student}): kind is '${field('kind')}'; it is server (the default) or client`,
      );
    }
    const problem = kind === 'client' ? clientCommandProblem(command, record) : serverCommandProblem(command);
    if (problem) throw new RosterError(`roster row ${row} (${student}): ${problem}`);
    if (seen.has(student)) throw new RosterError(`roster row ${row}: student ${student} appears twice`);
    seen.add(student);
    const submission: Submission = {
      row,
      student,
      kind: kind as SubmissionKind,
      dir: resolve(base, dir),
      command,
    };
    const password = field('password');
    if (password) submission.password = password;
    const target = field('target');
    if (target) {
      try {
        checkTargetTemplate(target);
      } catch (error) {
        throw new RosterError(`roster row ${row} (${student}): ${(error as Error).message}`);
      }
      submission.target = target;
    }
    return submission;
  });
}

function serverCommandProblem(command: string): string | undefined {
  if (!command.includes('{port}'))
    return 'the command has no {port}; the grader gives each server a free port';
  return undefined;
}

/** A client is checked over plain TCP against the kit's room, whose address it learns from {url} or {port}. */
function clientCommandProblem(command: string, record: RosterRecord): string | undefined {
  if (!command.includes('{url}') && !command.includes('{port}')) {
    return "the client's command has neither {url} nor {port}; the grader's room listens on a free port";
  }
  if (command.includes('{ca}')) return 'a client row is checked over plain TCP: its command cannot use {ca}';
  if (record.target !== undefined && record.target !== null && String(record.target).trim() !== '') {
    return 'a client row has no target: the grader plays the room, on plain TCP';
  }
  return undefined;
}

/**
 * A target URL with `{port}`, where a started server is reached (`tls://127.0.0.1:{port}`); throws
 * a RangeError or TransportError that says what is wrong.
 */
export function checkTargetTemplate(template: string): void {
  if (!template.includes('{port}')) {
    throw new RangeError(`the target ${template} has no {port}; the grader gives each server a free port`);
  }
  parseEndpoint(template.replaceAll('{port}', '0'));
}

/** RFC 4180 CSV: quoted fields may hold commas, line breaks and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark, as spreadsheets write
  for (; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        cell += char;
      }
    } else if (char === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else {
      cell += char;
    }
  }
  if (quoted) throw new RosterError('the roster has a quoted field that is never closed');
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** One CSV field, quoted when it must be. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** `K/N` with 1 <= K <= N. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new RangeError(`--shard takes K/N with 1 <= K <= N (e.g. 2/4), got '${text}'`);
  }
  return { index, count };
}

/** Rows K, K+N, K+2N, ... (1-based): every shard gets a fair mix of the roster. */
export function selectShard(submissions: readonly Submission[], shard: Shard): Submission[] {
  return submissions.filter((submission) => (submission.row - shard.index) % shard.count === 0);
}
