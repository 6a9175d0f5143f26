import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  authErrors,
  exportPublicKeyPem,
  generateRsaKeyPair,
  type HandshakeMessage,
  MessageError,
  notices,
  type RsaKeyPair,
} from '../../protocol/index.ts';
import {
  checkHandshake,
  type HandshakePolicy,
  invalidHandshakeText,
  PasswordCheck,
} from '../../reference-server/index.ts';
import { testKeys } from '../support/test-keys.ts';

let keys: RsaKeyPair[];
let weakPem: string;
beforeAll(async () => {
  keys = await testKeys();
  weakPem = (await generateRsaKeyPair(1024)).publicKeyPem;
});

const policy = (taken: string[] = [], maxUsernameLength = 32): HandshakePolicy => ({
  password: new PasswordCheck('secret123'),
  maxUsernameLength,
  isNameTaken: (name) => taken.includes(name),
});

const handshake = (fields: Partial<HandshakeMessage> = {}): HandshakeMessage => ({
  type: 'handshake',
  username: 'alice',
  server_password: 'secret123',
  public_key: keys[0]!.publicKeyPem,
  ...fields,
});

describe('checkHandshake', () => {
  it('accepts a good handshake and returns the imported key', () => {
    const verdict = checkHandshake(handshake(), policy());
    expect(verdict.ok).toBe(true);
    if (verdict.ok) {
      expect(verdict.username).toBe('alice');
      expect(verdict.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
  });

  it('refuses a wrong password, whatever else is wrong', () => {
    for (const password of ['secret12', 'secret1234', '', 'SECRET123']) {
      expect(
        checkHandshake(handshake({ server_password: password, username: '', public_key: 'x' }), policy()),
      ).toEqual({
        ok: false,
        reason: 'invalid_password',
        authError: authErrors.invalidPassword,
      });
    }
  });

  it('applies the username rules: 1 to max code points, no Cc', () => {
    const ok = (username: string, max = 32) => checkHandshake(handshake({ username }), policy([], max)).ok;
    expect(ok('a')).toBe(true);
    expect(ok('😀'.repeat(32))).toBe(true);
    expect(ok('😀'.repeat(33))).toBe(false);
    expect(ok('x'.repeat(32))).toBe(true);
    expect(ok('x'.repeat(33))).toBe(false);
    expect(ok('')).toBe(false);
    expect(ok('a\tb')).toBe(false);
    expect(ok('a\u0085b')).toBe(false); // C1 control
    expect(ok('a\u200db')).toBe(true); // format character (Cf), allowed by ECP-AUTH-06
    expect(ok(' spaced name ')).toBe(true);
    expect(ok('abcd', 3)).toBe(false);
    expect(ok('abc', 3)).toBe(true);
  });

  it('states its own limit in the username error when not the default', () => {
    expect(checkHandshake(handshake({ username: '' }), policy())).toMatchObject({
      authError: authErrors.invalidUsername,
    });
    expect(checkHandshake(handshake({ username: '' }), policy([], 8))).toMatchObject({
      reason: 'invalid_username',
      authError: 'Invalid username: must be 1-8 printable characters',
    });
  });

  it('answers a taken name with the system notice, before looking at the key', () => {
    expect(checkHandshake(handshake({ public_key: 'garbage' }), policy(['alice']))).toEqual({
      ok: false,
      reason: 'username_taken',
      notice: notices.usernameTaken,
    });
    expect(checkHandshake(handshake({ username: 'Alice' }), policy(['alice'])).ok).toBe(true);
  });

  it('refuses unusable keys with the reason', () => {
    const ec = exportPublicKeyPem(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey);
    const expectReason = (pem: string, reason: string) =>
      expect(checkHandshake(handshake({ public_key: pem }), policy())).toEqual({
        ok: false,
        reason: 'invalid_public_key',
        authError: authErrors.invalidPublicKey(reason),
      });
    expectReason('', 'not a PEM SubjectPublicKeyInfo');
    expectReason(
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
      'not a PEM SubjectPublicKeyInfo',
    );
    expectReason(ec, 'not an RSA key');
    expectReason(weakPem, 'modulus is 1024 bits; at least 2048 required');
  });
});

describe('invalidHandshakeText', () => {
  it('names the missing or wrongly typed field', () => {
    expect(invalidHandshakeText(new MessageError('ECP_MISSING_FIELD', 'x', 'public_key'))).toBe(
      "Invalid handshake: missing field 'public_key'",
    );
    expect(invalidHandshakeText(new MessageError('ECP_WRONG_FIELD_TYPE', 'x', 'username'))).toBe(
      "Invalid handshake: field 'username' must be a string",
    );
  });

  it('has nothing to say about other errors', () => {
    expect(invalidHandshakeText(new MessageError('ECP_INVALID_JSON', 'x'))).toBeUndefined();
    expect(invalidHandshakeText(new MessageError('ECP_MISSING_FIELD', 'x', 'type'))).toBeUndefined();
    expect(invalidHandshakeText(new MessageError('ECP_UNKNOWN_TYPE', 'x', 'type'))).toBeUndefined();
  });
});

describe('PasswordCheck', () => {
  it('matches only the exact password, of any length', () => {
    const check = new PasswordCheck('pässword');
    expect(check.matches('pässword')).toBe(true);
    expect(check.matches('password')).toBe(false);
    expect(check.matches('pässword ')).toBe(false);
    expect(check.matches('')).toBe(false);
    expect(check.matches('x'.repeat(10_000))).toBe(false);
  });

  it('never shows the password when serialized or inspected', () => {
    const check = new PasswordCheck('hunter2');
    expect(JSON.stringify({ check })).not.toContain('hunter2');
    expect(String(Object.values(check))).not.toContain('hunter2');
  });
});
