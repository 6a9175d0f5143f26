/**
 * What an instructor sees while a class is graded: a progress bar over every scenario of every
 * row on a terminal (cli-progress, on stderr), one line per finished server otherwise.
 */
import cliProgress from 'cli-progress';
import type { GradingEvent } from './grader.ts';
import type { StudentGrade } from './model.ts';

export interface GradingProgress {
  onEvent(event: GradingEvent): void;
  stop(): void;
}

/**
 * `scenariosOf`: for each student, how many scenarios its own labs hold (a server's and a
 * client's labs differ), for the bar's total.
 */
export function gradingProgress(
  scenariosOf: ReadonlyMap<string, number>,
  stream: NodeJS.WriteStream = process.stderr,
): GradingProgress {
  return stream.isTTY ? barProgress(scenariosOf, stream) : lineProgress(scenariosOf.size, stream);
}

export function describeGrade(grade: StudentGrade): string {
  const labs = grade.labs.map((lab) => `${lab.lab}:${lab.status === 'not-run' ? '-' : lab.points}`).join(' ');
  return `${grade.student}: ${grade.verdict}, ${grade.total}/${grade.possible} (${labs}) in ${(grade.durationMs / 1000).toFixed(1)} s`;
}

function barProgress(scenariosOf: ReadonlyMap<string, number>, stream: NodeJS.WriteStream): GradingProgress {
  const servers = scenariosOf.size;
  const all = [...scenariosOf.values()].reduce((sum, n) => sum + n, 0);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'grading [{bar}] {percentage}% | {value}/{total} scenarios | {done}/{servers} done | {last}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const counted = new Map<string, number>();
  let value = 0;
  let done = 0;
  bar.start(Math.max(1, all), 0, { done, servers, last: '' });
  return {
    onEvent(event) {
      if (event.kind === 'scenario') {
        counted.set(event.student, (counted.get(event.student) ?? 0) + 1);
        value += 1;
      } else if (event.kind === 'student-finished') {
        // A row that stopped early (did not start, no answer, the cap) skips its remaining scenarios.
        const student = event.grade.student;
        value += Math.max(0, (scenariosOf.get(student) ?? 0) - (counted.get(student) ?? 0));
        counted.delete(student);
        done += 1;
        bar.update(value, { done, last: `${student}: ${event.grade.verdict}` });
        return;
      }
      bar.update(value, { done });
    },
    stop() {
      bar.stop();
    },
  };
}

function lineProgress(servers: number, stream: NodeJS.WriteStream): GradingProgress {
  let done = 0;
  return {
    onEvent(event) {
      if (event.kind !== 'student-finished') return;
      done += 1;
      stream.write(`[${done}/${servers}] ${describeGrade(event.grade)}\n`);
    },
    stop() {},
  };
}
