/**
 * `ecp grade merge DIR... --out DIR`: joins the outputs of shards (`--shard K/N`) into one class
 * report. Each shard's student folders are copied (their names start with the roster row, so
 * they never clash), the rows are put back in roster order, and the three outputs are written.
 */
import { cp, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GRADE_FILES, readGrades, writeGrades } from './gradebook.ts';
import type { GradesFile } from './model.ts';

export async function mergeGrades(inputs: readonly string[], outDir: string): Promise<GradesFile> {
  if (inputs.length === 0) throw new RangeError('name the folders of the shards to merge');
  const out = resolve(outDir);
  if (inputs.some((input) => resolve(input) === out)) {
    throw new RangeError('--out must be a new folder, not one of the shards');
  }
  const shards = inputs.map((input) => ({
    dir: resolve(input),
    grades: readGrades(join(input, GRADE_FILES.json)),
  }));
  const first = shards[0]!.grades;
  const labsKey = (grades: GradesFile) =>
    JSON.stringify(grades.labs.map(({ number, weight }) => [number, weight]));
  const seen = new Map<string, string>();
  for (const { dir, grades } of shards) {
    if (labsKey(grades) !== labsKey(first)) {
      throw new RangeError(
        `${dir} graded other labs or weights than ${shards[0]!.dir}: grade every shard alike`,
      );
    }
    if (grades.rosterSha256 !== first.rosterSha256) {
      throw new RangeError(
        `${dir} graded another roster (${grades.roster}) than ${shards[0]!.dir} (${first.roster})`,
      );
    }
    for (const student of grades.students) {
      const other = seen.get(student.student);
      if (other)
        throw new RangeError(`${student.student} is in both ${other} and ${dir}: overlapping shards`);
      seen.set(student.student, dir);
    }
  }
  await mkdir(join(out, 'students'), { recursive: true });
  for (const { dir } of shards) {
    const students = join(dir, 'students');
    const folders = await readdir(students).catch(() => [] as string[]);
    for (const folder of folders) {
      await cp(join(students, folder), join(out, 'students', folder), {
        recursive: true,
        errorOnExist: true,
        force: false,
      });
    }
  }
  const merged: GradesFile = {
    ...first,
    generatedAt: new Date().toISOString(),
    options: { ...first.options, shard: null },
    labs: first.labs.map((lab) => ({ ...lab })),
    students: shards.flatMap(({ grades }) => grades.students).sort((a, b) => a.row - b.row),
  };
  await writeGrades(out, merged);
  return merged;
}
