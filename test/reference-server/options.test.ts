import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../protocol/index.ts';
import { OptionsError, resolveLimits, resolvePassword } from '../../reference-server/index.ts';

const scratch = () => mkdtempSync(join(tmpdir(), 'ecp-options-'));

describe('resolveLimits', () => {
  it('gives the spec defaults', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({})).toEqual({
      maxLineBytes: 1_048_576,
      handshakeTimeoutMs: 10_000,
      maxPendingOutputBytes: 8_388_608,
      slowReaderTimeoutMs: 5_000,
      maxConnections: 10_000,
      maxUsernameLength: 32,
    });
  });

  it('applies overrides', () => {
    expect(resolveLimits({ maxConnections: 3, maxLineBytes: 100 })).toMatchObject({
      maxConnections: 3,
      maxLineBytes: 100,
    });
  });

  it.each([
    ['maxLineBytes', 0],
    ['maxConnections', -1],
    ['handshakeTimeoutMs', 1.5],
    ['maxPendingOutputBytes', Number.NaN],
    ['maxUsernameLength', Number.POSITIVE_INFINITY],
  ])('refuses %s = %s', (name, value) => {
    expect(() => resolveLimits({ [name]: value })).toThrow(OptionsError);
    expect(() => resolveLimits({ [name]: value })).toThrow(new RegExp(`^${name} must be an integer >= 1`));
  });
});

describe('resolvePassword', () => {
  it('prefers --password, then --password-file, then ECP_PASSWORD', () => {
    const dir = scratch();
    const file = join(dir, 'pw');
    writeFileSync(file, 'from-file\n');
    expect(resolvePassword({ password: 'opt', env: 'env' })).toEqual({
      password: 'opt',
      generated: false,
      source: 'option',
    });
    expect(resolvePassword({ passwordFile: file, env: 'env' })).toEqual({
      password: 'from-file',
      generated: false,
      source: 'file',
    });
    expect(resolvePassword({ env: 'env' })).toEqual({ password: 'env', generated: false, source: 'env' });
  });

  it('drops exactly one trailing newline from the file (CRLF too), keeping other whitespace', () => {
    const dir = scratch();
    const file = join(dir, 'pw');
    writeFileSync(file, ' spaced \r\n');
    expect(resolvePassword({ passwordFile: file }).password).toBe(' spaced ');
    writeFileSync(file, 'two\n\n');
    expect(resolvePassword({ passwordFile: file }).password).toBe('two\n');
  });

  it('generates a random password when none is given (or ECP_PASSWORD is empty)', () => {
    const first = resolvePassword({});
    const second = resolvePassword({ env: '' });
    expect(first.generated).toBe(true);
    expect(first.source).toBe('generated');
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(second.password).not.toBe(first.password);
  });

  it('refuses conflicting, empty or unreadable sources', () => {
    expect(() => resolvePassword({ password: 'a', passwordFile: 'b' })).toThrow(OptionsError);
    expect(() => resolvePassword({ password: '' })).toThrow(/--password is empty/);
    const dir = scratch();
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => resolvePassword({ passwordFile: empty })).toThrow(/--password-file is empty/);
    expect(() => resolvePassword({ passwordFile: join(dir, 'missing') })).toThrow(
      /cannot read --password-file .*ENOENT/,
    );
  });
});
