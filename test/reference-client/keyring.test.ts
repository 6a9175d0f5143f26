import { describe, expect, it } from 'vitest';
import { Fernet, sealText } from '../../protocol/index.ts';
import { Keyring } from '../../reference-client/index.ts';

describe('Keyring', () => {
  const first = Fernet.generateKey();
  const second = Fernet.generateKey();
  const third = Fernet.generateKey();
  const seal = (key: string, text: string) => sealText(new Fernet(key), text);

  it('holds no key at first and refuses to seal or open', () => {
    const keyring = new Keyring();
    expect(keyring.hasKey).toBe(false);
    expect(() => keyring.seal('x')).toThrow();
    expect(() => keyring.open(seal(first, 'x'))).toThrow();
  });

  it('seals with the current key and opens what it sealed', () => {
    const keyring = new Keyring();
    expect(keyring.install(first, 0)).toBe(true);
    expect(keyring.open(keyring.seal('hello'))).toEqual({ text: 'hello', key: 'current' });
    expect(new Fernet(first).decrypt(Buffer.from(keyring.seal('x'), 'base64').toString()).toString()).toBe(
      'x',
    );
  });

  it('opens old-key payloads during the grace period only', () => {
    const keyring = new Keyring({ graceMs: 1_000 });
    keyring.install(first, 0);
    keyring.install(second, 10_000);
    expect(keyring.open(seal(second, 'new'), 10_500)).toEqual({ text: 'new', key: 'current' });
    expect(keyring.open(seal(first, 'old'), 11_000)).toEqual({ text: 'old', key: 'previous' });
    expect(() => keyring.open(seal(first, 'old'), 11_001)).toThrow(
      expect.objectContaining({ code: 'ECP_INVALID_TOKEN' }),
    );
  });

  it('keeps only one previous key', () => {
    const keyring = new Keyring({ graceMs: 1_000 });
    keyring.install(first, 0);
    keyring.install(second, 1);
    keyring.install(third, 2);
    expect(keyring.open(seal(second, 'b'), 3).key).toBe('previous');
    expect(() => keyring.open(seal(first, 'a'), 3)).toThrow();
  });

  it('treats a repeated current key as no change, keeping the previous one', () => {
    const keyring = new Keyring({ graceMs: 1_000 });
    keyring.install(first, 0);
    keyring.install(second, 0);
    expect(keyring.install(second, 10)).toBe(false);
    expect(keyring.open(seal(first, 'a'), 20).key).toBe('previous');
  });

  it('rejects a key that is not a Fernet key', () => {
    expect(() => new Keyring().install('short')).toThrow(
      expect.objectContaining({ code: 'ECP_INVALID_KEY' }),
    );
  });
});
