/**
 * `npm run labs:starters`: writes each lab starter (labs/starters/<language>/) from its completed
 * server (test/labs/solutions/<language>/), so a change to the protocol is made once, in the
 * solution, and the starter follows.
 *
 * The solution marks each part a student writes, in its language's comment syntax (here `#`):
 *
 *     # starter begin
 *     #| # TODO(lab 1): what to build, as the starter shows it
 *     #| raise NotImplementedError("TODO(lab 1): feed")
 *     ...the solution's code...
 *     # starter end
 *
 * The starter has the `#|` lines (without the `#| ` and indented as the marker is) where the
 * solution has the lines between the markers; everything outside the markers is the same in both.
 *
 *     npm run labs:starters                 # rewrites labs/starters/
 *     npm run labs:starters -- --out DIR    # writes DIR/<language>/<file> instead
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface StarterSource {
  /** The completed server, relative to the repository. */
  solution: string;
  /** The starter written from it, relative to the repository's labs/starters/. */
  starter: string;
  /** The language's line comment. */
  comment: '#' | '//';
}

export const STARTER_SOURCES: readonly StarterSource[] = [
  { solution: 'test/labs/solutions/python/server.py', starter: 'python/server.py', comment: '#' },
  { solution: 'test/labs/solutions/typescript/server.ts', starter: 'typescript/server.ts', comment: '//' },
  { solution: 'test/labs/solutions/go/server.go', starter: 'go/server.go', comment: '//' },
  {
    solution: 'test/labs/solutions/python-client/client.py',
    starter: 'python-client/client.py',
    comment: '#',
  },
];

export const REPOSITORY = join(dirname(fileURLToPath(import.meta.url)), '..');
export const STARTERS_FOLDER = join(REPOSITORY, 'labs', 'starters');

/** A marker out of place in a solution, with the line (from 1) where it was found. */
export class StarterMarkerError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = 'StarterMarkerError';
  }
}

/** The starter's text for a solution's text whose line comment is `comment`. */
export function starterFrom(solution: string, comment: string): string {
  return readMarkers(solution, comment, 'starter');
}

/** The solution's text without its markers and starter lines: the completed server alone. */
export function solutionWithoutMarkers(solution: string, comment: string): string {
  return readMarkers(solution, comment, 'solution');
}

function readMarkers(solution: string, comment: string, keep: 'starter' | 'solution'): string {
  const begin = `${comment} starter begin`;
  const end = `${comment} starter end`;
  const starterLine = `${comment}|`;
  const out: string[] = [];
  // The indentation of the open region's marker, or undefined outside a region.
  let region: { indent: string; line: number } | undefined;
  const lines = solution.split('\n');
  lines.forEach((line, index) => {
    const number = index + 1;
    const text = line.trimStart();
    const indent = line.slice(0, line.length - text.length);
    if (text === begin) {
      if (region)
        throw new StarterMarkerError(number, `a region opened inside the one of line ${region.line}`);
      region = { indent, line: number };
    } else if (text === end) {
      if (!region) throw new StarterMarkerError(number, `'${end}' without '${begin}'`);
      region = undefined;
    } else if (text.startsWith(starterLine)) {
      if (!region) throw new StarterMarkerError(number, `'${starterLine}' outside a region`);
      const rest = text.slice(starterLine.length);
      if (rest !== '' && !rest.startsWith(' ')) {
        throw new StarterMarkerError(number, `'${starterLine}' must be followed by a space or nothing`);
      }
      if (keep === 'starter') out.push(rest === '' ? '' : `${region.indent}${rest.slice(1)}`);
    } else if (text.startsWith(`${comment} starter`)) {
      throw new StarterMarkerError(number, `unknown marker '${text}'`);
    } else if (!region || keep === 'solution') {
      out.push(line);
    }
  });
  if (region) throw new StarterMarkerError(region.line, `'${begin}' never ended`);
  return out.join('\n');
}

/** Writes every starter under `folder` (labs/starters/ by default); returns the files that changed. */
export function writeStarters(folder = STARTERS_FOLDER): string[] {
  const changed: string[] = [];
  for (const source of STARTER_SOURCES) {
    const solutionPath = join(REPOSITORY, source.solution);
    let text: string;
    try {
      text = starterFrom(readFileSync(solutionPath, 'utf8'), source.comment);
    } catch (error) {
      if (error instanceof StarterMarkerError) throw new Error(`${source.solution}: ${error.message}`);
      throw error;
    }
    const path = join(folder, source.starter);
    let before: string | undefined;
    try {
      before = readFileSync(path, 'utf8');
    } catch {
      before = undefined;
    }
    if (before === text) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    changed.push(path);
  }
  return changed;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  if (args.length > 0 && !(args.length === 2 && outAt === 0)) {
    console.error('usage: npm run labs:starters [-- --out DIR]');
    process.exit(2);
  }
  try {
    const changed = writeStarters(outAt === 0 ? args[1] : undefined);
    for (const path of changed) console.log(`wrote ${relative(process.cwd(), path)}`);
    if (changed.length === 0) console.log('the starters were already up to date');
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
