/**
 * A server without --cluster pays nothing for it: outside reference-server/cluster/, no file
 * imports ioredis or the cluster room statically; server.ts loads it with import() when asked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SERVER = join(ROOT, 'reference-server');
const CLUSTER = join(SERVER, 'cluster');

/** Static imports (`import ... from '...'`, `export ... from '...'`), not `import type`. */
function staticImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
    found.push(match[1]!);
  }
  return found;
}

describe('the cluster is loaded only with --cluster', () => {
  it('has no static import of ioredis or of the cluster room outside reference-server/cluster/', () => {
    const files = readdirSync(SERVER).filter((name) => name.endsWith('.ts'));
    expect(files).toContain('server.ts');
    // The check sees multi-line imports: server.ts's one of the cluster options is found.
    expect(staticImports(readFileSync(join(SERVER, 'server.ts'), 'utf8'))).toContain('./cluster/options.ts');
    for (const name of files) {
      const imports = staticImports(readFileSync(join(SERVER, name), 'utf8'));
      expect(imports, name).not.toContain('ioredis');
      for (const path of imports) {
        if (path.startsWith('./cluster/')) expect(path, name).toBe('./cluster/options.ts');
      }
    }
  });

  it('keeps ioredis out of the options the server checks at start', () => {
    const imports = staticImports(readFileSync(join(CLUSTER, 'options.ts'), 'utf8'));
    expect(imports).toEqual(['node:os', './redis-keys.ts']);
    expect(staticImports(readFileSync(join(CLUSTER, 'redis-keys.ts'), 'utf8'))).toEqual([]);
    expect(readFileSync(join(SERVER, 'server.ts'), 'utf8')).toContain("await import('./cluster/index.ts')");
  });
});
