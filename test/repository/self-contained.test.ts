import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A clone with nothing beside it must test on its own: no file of ours may reach outside the
// repository (the test vectors once sat in a sibling folder, and every fresh clone failed).
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SKIPPED_FOLDERS = new Set([
  '.git',
  'node_modules',
  'dist',
  'reports',
  '__pycache__',
  '.venv',
  'target',
]);
const CODE = new Set(['.ts', '.mts', '.js', '.mjs', '.cjs', '.py', '.go', '.sh', '.feature']);

function codeFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return SKIPPED_FOLDERS.has(entry.name) ? [] : codeFiles(path);
    return CODE.has(extname(entry.name)) || entry.name === 'package.json' ? [path] : [];
  });
}

const inside = (path: string) => path === ROOT || path.startsWith(ROOT + sep);

/**
 * Relative paths written as string literals ('../x', "../../y", `../z`) that lead out of the
 * repository, resolved from the file and from its compiled twin under dist/ (tsconfig.build.json
 * compiles all but test/, labs/ and docs/; code that runs from both places picks its path by where
 * it runs).
 */
function escapingPaths(file: string, text: string): string[] {
  const literal = /(['"`])(\.\.\/[^'"`\s]*)\1/g;
  const folder = relative(ROOT, dirname(file));
  const compiledTwin = file.endsWith('.ts') && !/^(test|labs|docs)\b/.test(folder);
  const places = [dirname(file), ...(compiledTwin ? [join(ROOT, 'dist', folder)] : [])];
  return [...text.matchAll(literal)]
    .map((match) => match[2] as string)
    .filter((path) => places.every((place) => !inside(resolve(place, path))));
}

/** Names of folders that only exist on the machines the kit is built on. */
const OUTSIDE_NAMES = /\.\.\/shared\/|\/work\/shared|\/work\/main/;

describe('the repository', () => {
  const files = codeFiles(ROOT);

  it('has code to check (the walk found the source and test files)', () => {
    const names = files.map((file) => relative(ROOT, file));
    expect(names).toContain(join('test', 'protocol', 'fernet.test.ts'));
    expect(names).toContain(join('bin', 'main.ts'));
  });

  it('has no source, test or script file that refers to a path outside it', () => {
    const self = fileURLToPath(import.meta.url);
    const offenders = files
      .filter((file) => file !== self)
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        const named = text
          .split('\n')
          .flatMap((line, index) => (OUTSIDE_NAMES.test(line) ? [`line ${index + 1}`] : []));
        return [...escapingPaths(file, text), ...named].map((what) => `${relative(ROOT, file)}: ${what}`);
      });
    expect(offenders).toEqual([]);
  });
});
