/**
 * What `ecp conformance` prints: a line per scenario as it finishes, then every failure in full
 * (requirement, expected, actual, hint), then the verdict per profile.
 */
import { styleText } from 'node:util';
import { labName } from '../labs.ts';
import type { ScenarioResult } from '../results.ts';
import { blockedReason, type ConformanceSummary, isFailure, labLine, profileLine } from './summary.ts';

type Style = Parameters<typeof styleText>[0];

export interface ConsoleOutput {
  write(text: string): void;
  /** Whether to colour the output. */
  colour: boolean;
}

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function consoleFor(stream: NodeJS.WriteStream, env = process.env): ConsoleOutput {
  return {
    write: (text) => stream.write(text),
    colour: stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb',
  };
}

const MARKS: Record<ScenarioResult['status'], [string, Style]> = {
  passed: ['✓', 'green'],
  failed: ['✗', 'red'],
  skipped: ['-', 'yellow'],
  undefined: ['?', 'red'],
  pending: ['?', 'red'],
  ambiguous: ['?', 'red'],
};

/** Prints one line per finished scenario, with a heading whenever the feature changes. */
export function progressPrinter(out: ConsoleOutput): (result: ScenarioResult) => void {
  const paint = painter(out);
  let feature: string | undefined;
  return (result) => {
    if (result.feature !== feature) {
      feature = result.feature;
      out.write(`\n${paint(feature, 'bold')}\n`);
    }
    const [mark, style] = MARKS[result.status];
    const ids = result.requirements.join(' ');
    const time = paint(`${Math.round(result.durationMs)} ms`, 'dim');
    out.write(
      `  ${paint(mark, style)} ${(result.profile ?? '?').padEnd(10)} ${labName(result.lab).padEnd(6)} ${ids.padEnd(13)} ${result.name}  ${time}\n`,
    );
    // A skipped scenario says why (not checkable over this transport, a limit too large to reach, ...).
    const why = result.status === 'skipped' ? result.notes[0] : undefined;
    if (why !== undefined) out.write(`      ${paint(why, 'dim')}\n`);
  };
}

/** The failures in full, then the verdict lines. */
export function formatEnd(summary: ConformanceSummary, out: ConsoleOutput, reportFiles: string[]): string {
  const paint = painter(out);
  const lines: string[] = [];
  for (const { reason, scenarios } of summary.blocked) {
    lines.push(
      '',
      paint(`Prerequisite failed: ${reason}.`, 'bold'),
      `${scenarios} later scenarios that need it were ended at once (blocked); the failures below say why it failed.`,
    );
  }
  const failures = summary.scenarios.filter(
    (item) => isFailure(item.status) && blockedReason(item.failure) === undefined,
  );
  if (failures.length > 0) {
    lines.push('', paint(`Failures (${failures.length}):`, 'bold'));
    failures.forEach((item, index) => {
      lines.push(
        '',
        `${index + 1}) ${paint(item.name, 'bold')}  [${item.profile ?? 'no profile'}, ${labName(item.lab ?? undefined)}]  ${paint(item.location, 'dim')}`,
        `   Step: ${item.failure?.step ?? '?'}`,
        ...(item.failure?.message ?? '').split('\n').map((line) => `   ${line}`),
      );
      if (item.evidence.length > 0) lines.push(paint(`   Evidence: ${item.evidence.join(', ')}`, 'dim'));
    });
  }
  const repeated = summary.scenarios.filter((item) => item.repeats && item.repeats.outcome !== 'skipped');
  if (summary.repeat > 1) {
    const moved = repeated.filter((item) => item.repeats?.outcome === 'flaky');
    lines.push(
      '',
      paint(
        `Repeated ${summary.repeat} times: ${repeated.length - moved.length} scenarios kept their verdict, ${moved.length} flaky:`,
        'bold',
      ),
      ...moved.map(
        (item) =>
          `  passed ${item.repeats?.passed}/${summary.repeat}  ${item.name}  ${paint(item.location, 'dim')}`,
      ),
    );
  }
  const { totals } = summary;
  const verdict = summary.verdict === 'pass' ? paint('PASS', 'green') : paint('FAIL', 'red');
  lines.push(
    '',
    `${verdict}  ${profileLine(summary.profiles)}`,
    ...(summary.labs.length > 0 ? [`      ${labLine(summary.labs)}`] : []),
    `${totals.total} scenarios: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped, in ${(summary.durationMs / 1000).toFixed(1)} s${summary.seed !== undefined ? ` (seed ${summary.seed})` : ''}`,
  );
  if (reportFiles.length > 0) lines.push(`Reports: ${reportFiles.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function painter(out: ConsoleOutput): (text: string, style: Style) => string {
  return (text, style) => (out.colour ? styleText(style, text) : text);
}
