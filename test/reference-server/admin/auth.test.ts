/** The admin token: what it accepts, that every check compares fixed-length digests, where it comes from. */
import type * as crypto from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { AdminToken, AdminTokenError, readAdminToken } from '../../../reference-server/admin/auth.ts';

const compared: number[][] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof crypto>();
  return {
    ...original,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([a.byteLength, b.byteLength]);
      return original.timingSafeEqual(a, b);
    },
  };
});

const TOKEN = 'k3y-0f-th3-0p3rat0r';

describe('AdminToken', () => {
  it('accepts exactly `Bearer <token>`', () => {
    const token = new AdminToken(TOKEN);
    expect(token.accepts(`Bearer ${TOKEN}`)).toBe(true);
    expect(token.accepts(`bearer ${TOKEN}`)).toBe(true);
    expect(token.accepts(undefined)).toBe(false);
    expect(token.accepts('')).toBe(false);
    expect(token.accepts(TOKEN)).toBe(false);
    expect(token.accepts(`Basic ${TOKEN}`)).toBe(false);
    expect(token.accepts(`Bearer ${TOKEN}x`)).toBe(false);
    expect(token.accepts(`Bearer ${TOKEN.slice(1)}`)).toBe(false);
    expect(token.accepts(`Bearer ${TOKEN} extra`)).toBe(false);
  });

  it('compares two 32-byte digests for every candidate, whatever its length or form', () => {
    const token = new AdminToken(TOKEN);
    compared.length = 0;
    for (const candidate of [
      undefined,
      'Bearer x',
      `Bearer ${TOKEN}`,
      `Bearer ${'y'.repeat(5000)}`,
      'garbage',
    ]) {
      token.accepts(candidate);
    }
    expect(compared).toEqual(Array.from({ length: 5 }, () => [32, 32]));
  });

  it('refuses short tokens and tokens a header cannot carry', () => {
    expect(() => new AdminToken('short')).toThrow(AdminTokenError);
    expect(() => new AdminToken('sixteen chars with spaces')).toThrow(/printable ASCII without spaces/);
    expect(() => new AdminToken('0123456789abcdef')).not.toThrow();
  });

  it('never shows the token when serialized', () => {
    expect(JSON.stringify({ token: new AdminToken(TOKEN) })).not.toContain(TOKEN);
  });
});

describe('readAdminToken', () => {
  it('reads the file (one trailing newline dropped) before the environment', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ecp-admin-token-')), 'token');
    writeFileSync(file, `${TOKEN}\n`);
    expect(readAdminToken({ file, env: 'from-the-environment' }, '--token-file')).toBe(TOKEN);
    expect(readAdminToken({ file: undefined, env: 'from-the-environment' }, '--token-file')).toBe(
      'from-the-environment',
    );
  });

  it('says which flag or variable to use when there is no token', () => {
    expect(() => readAdminToken({ file: undefined, env: '' }, '--token-file')).toThrow(
      'no admin token: give --token-file FILE or set ECP_ADMIN_TOKEN',
    );
    expect(() => readAdminToken({ file: '/nonexistent/token', env: undefined }, '--token-file')).toThrow(
      'cannot read --token-file /nonexistent/token: ENOENT',
    );
  });
});
