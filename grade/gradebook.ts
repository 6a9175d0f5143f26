/**
 * The outputs of a grading run in its folder: `grades.json` (everything, schema `ecp-grade/1`),
 * `grades.csv` (the gradebook: student, kind, points per lab,
 * total, possible, verdict, notes) and `index.html`
 * (the class report).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatClassReport } from './class-report.ts';
import { GRADES_SCHEMA, type GradesFile } from './model.ts';
import { csvField } from './roster.ts';

export const GRADE_FILES = { json: 'grades.json', csv: 'grades.csv', html: 'index.html' } as const;

export async function writeGrades(outDir: string, grades: GradesFile): Promise<void> {
  await writeFile(join(outDir, GRADE_FILES.json), `${JSON.stringify(grades, null, 2)}\n`);
  await writeFile(join(outDir, GRADE_FILES.csv), formatGradebook(grades));
  await writeFile(join(outDir, GRADE_FILES.html), formatClassReport(grades));
}

/** A lab that is not the row's own (a client lab on a server row, or the other way round) is blank. */
export function formatGradebook(grades: GradesFile): string {
  const header = [
    'student',
    'kind',
    ...grades.labs.map((lab) => `lab-${lab.number}`),
    'total',
    'possible',
    'verdict',
    'notes',
  ];
  const rows = grades.students.map((student) => [
    student.student,
    student.kind,
    ...grades.labs.map((lab) =>
      lab.party === student.kind ? (student.labs.find((item) => item.lab === lab.number)?.points ?? 0) : '',
    ),
    student.total,
    student.possible,
    student.verdict,
    student.notes.join('; '),
  ]);
  return `${[header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** Reads a `grades.json`, checking that it is one. */
export function readGrades(path: string): GradesFile {
  let grades: GradesFile;
  try {
    grades = JSON.parse(readFileSync(path, 'utf8')) as GradesFile;
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (grades?.schema !== GRADES_SCHEMA) throw new Error(`${path} is not an ${GRADES_SCHEMA} file`);
  return grades;
}
