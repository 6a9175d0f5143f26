/**
 * The packed kit carries the starters as a student copies them: each server, the TypeScript
 * starter's package.json and lockfile, and never the node_modules a maintainer installed there.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './servers.ts';

it('packs the starters without their node_modules', () => {
  // A module installed in the TypeScript starter, whether or not `npm ci` was run there.
  const modules = join(ROOT, 'labs/starters/typescript/node_modules');
  const installed = existsSync(modules);
  const probe = join(modules, 'ecp-pack-probe');
  mkdirSync(probe, { recursive: true });
  writeFileSync(join(probe, 'index.js'), '');
  let files: string[];
  try {
    const packed = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    files = (JSON.parse(packed) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
  } finally {
    rmSync(installed ? probe : modules, { recursive: true, force: true });
  }
  const starters = files.filter((path) => path.startsWith('labs/')).sort();
  expect(starters).toEqual([
    'labs/starters/README.md',
    'labs/starters/go/server.go',
    'labs/starters/python-client/client.py',
    'labs/starters/python/server.py',
    'labs/starters/typescript/package-lock.json',
    'labs/starters/typescript/package.json',
    'labs/starters/typescript/server.ts',
  ]);
});
