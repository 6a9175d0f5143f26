/**
 * Compares what a doc shows a command printing with what it prints. Both sides are masked the
 * same way first (timings, dates, ports: figures that change from run to run), and the doc may
 * elide: a line that is only `...` stands for any number of lines, and `...` inside a line for
 * any text.
 */

/** Figures no two runs share. Each is replaced by its name, on both sides. */
const DEFAULT_MASKS: [RegExp, string][] = [
  [/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, '<date>'],
  [/\b\d\d:\d\d:\d\d\b/g, '<clock>'],
  [/((?:127\.0\.0\.1|0\.0\.0\.0|localhost|\[::1\]):)\d+/g, '$1<port>'],
  [/\b\d[\d,]*(?:\.\d+)? ?(?:ms|s|µs|seconds?|minutes?)\b/g, '<duration>'],
  [/\bpid \d+/g, 'pid <pid>'],
  // The seed of a run's random inputs, drawn at random unless --seed gives one.
  [/\bseed \d+/g, 'seed <seed>'],
  [/\b\d[\d,]*(?:\.\d+)? ?(?:bytes|B|KiB|MiB|GiB|kB|MB)\b/g, '<size>'],
];

const ELISION = '...';

export function mask(line: string, extra: readonly RegExp[] = []): string {
  let masked = line.trimEnd();
  for (const [pattern, name] of DEFAULT_MASKS) masked = masked.replace(pattern, name);
  for (const pattern of extra) masked = masked.replace(pattern, '<masked>');
  return masked;
}

const isElision = (line: string) => line.trim() === ELISION;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether one line of the doc matches one printed line, both masked. */
function lineMatches(expected: string, actual: string): boolean {
  if (!expected.includes(ELISION)) return expected === actual;
  const pattern = expected.split(ELISION).map(escapeRegExp).join('.*');
  return new RegExp(`^${pattern}$`).test(actual);
}

/** Drops trailing blank lines: a program's last newline is not a line of its output. */
function trimEnd(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1]?.trim() === '') end--;
  return lines.slice(0, end);
}

export interface Comparison {
  matches: boolean;
  /** When it does not: the index (in the doc's lines) of the first line no alignment gets past. */
  firstMismatch?: number;
}

/** Compares the doc's lines with the printed ones (`...` lines match any number of lines). */
export function compareOutput(
  expectedLines: readonly string[],
  actualLines: readonly string[],
  masks: readonly RegExp[] = [],
): Comparison {
  const expected = trimEnd(expectedLines).map((line) => (isElision(line) ? ELISION : mask(line, masks)));
  const actual = trimEnd(actualLines).map((line) => mask(line, masks));
  // Dynamic programming over (doc line, printed line): bounded by their product, no backtracking.
  const memo = new Map<number, boolean>();
  let furthest = 0;
  const from = (i: number, j: number): boolean => {
    const key = i * (actual.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    furthest = Math.max(furthest, i);
    let result: boolean;
    if (i === expected.length) result = j === actual.length;
    else if (expected[i] === ELISION) result = from(i + 1, j) || (j < actual.length && from(i, j + 1));
    else result = j < actual.length && lineMatches(expected[i]!, actual[j]!) && from(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  const matches = from(0, 0);
  return matches ? { matches } : { matches, firstMismatch: Math.min(furthest, expected.length - 1) };
}

/**
 * The doc's lines brought up to date with what was printed, keeping the doc's shape: its `...`
 * lines stay, and so does every line that still matches (with its own figures and elisions);
 * each run of lines between two `...` is replaced by the printed lines that fit it best.
 */
export function refreshOutput(
  expectedLines: readonly string[],
  actualLines: readonly string[],
  masks: readonly RegExp[] = [],
): string[] {
  const expected = trimEnd(expectedLines);
  const actual = trimEnd(actualLines);
  // Each run of lines with the `...` line before it (as the doc indents it), if any.
  const segments: { lines: string[]; elision?: string; elidedAfter: boolean }[] = [];
  let current: string[] = [];
  let elision: string | undefined;
  for (const line of expected) {
    if (isElision(line)) {
      if (current.length > 0 || elision !== undefined) {
        segments.push({ lines: current, ...(elision === undefined ? {} : { elision }), elidedAfter: true });
      }
      current = [];
      elision = line;
    } else current.push(line);
  }
  segments.push({ lines: current, ...(elision === undefined ? {} : { elision }), elidedAfter: false });

  const maskedActual = actual.map((line) => mask(line, masks));
  const score = (segment: string[], start: number) =>
    segment.reduce((total, line, offset) => {
      const printed = maskedActual[start + offset] ?? '';
      const masked = mask(line, masks);
      if (lineMatches(masked, printed)) return total + 1000;
      let common = 0;
      while (common < masked.length && masked[common] === printed[common]) common++;
      return total + common;
    }, 0);

  const refreshed: string[] = [];
  let position = 0;
  for (const segment of segments) {
    const length = segment.lines.length;
    let start = position;
    if (segment.elision !== undefined) {
      // Where the segment fits best; the last one may run to the end of what was printed, and
      // with nothing that fits better it keeps its length, ending where the output ends.
      const lastStart = segment.elidedAfter ? actual.length - length : actual.length - 1;
      if (!segment.elidedAfter) start = Math.max(position, actual.length - length);
      let best = score(segment.lines, start);
      for (let candidate = position; candidate <= lastStart; candidate++) {
        const candidateScore = score(segment.lines, candidate);
        if (candidateScore > best) [best, start] = [candidateScore, candidate];
      }
    }
    if (segment.elision !== undefined) refreshed.push(segment.elision);
    if (length === 0) break; // a closing `...` stands for the rest
    const end = segment.elidedAfter ? start + length : actual.length;
    for (let index = start; index < end && index < actual.length; index++) {
      const line = segment.lines[index - start];
      const matches = line !== undefined && lineMatches(mask(line, masks), maskedActual[index]!);
      refreshed.push(matches ? line : actual[index]!);
    }
    position = Math.min(actual.length, end);
  }
  return refreshed;
}
