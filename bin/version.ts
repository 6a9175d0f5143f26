import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION } from '../protocol/index.ts';

// From a clone this file runs as bin/version.ts; built, as dist/bin/version.js, one level deeper.
const PACKAGE_JSON = new URL(
  import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json',
  import.meta.url,
);

/** `ecp --version`: the kit's name and version (its package.json's) and the protocol it speaks. */
export function versionText(): string {
  const { name, version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as {
    name: string;
    version: string;
  };
  return `${name} ${version} (ECP v${PROTOCOL_VERSION})`;
}
