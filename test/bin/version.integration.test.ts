import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { versionText } from '../../bin/version.ts';
import { PROTOCOL_VERSION } from '../../protocol/index.ts';

const ECP = fileURLToPath(new URL('../../bin/ecp.js', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('ecp --version', () => {
  it("names the kit's version from package.json and the protocol version it speaks", () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(versionText()).toBe(`ecp-kit ${version} (ECP v1)`);
  });

  it('is what the command prints', () => {
    expect(execFileSync(process.execPath, [ECP, '--version'], { encoding: 'utf8' })).toBe(
      `${versionText()}\n`,
    );
  });
});
