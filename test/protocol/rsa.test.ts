import {
  constants,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoError,
  exportPublicKeyPem,
  generateRsaKeyPair,
  importPublicKeyPem,
  MIN_RSA_MODULUS_BITS,
  oaepDecrypt,
  oaepEncrypt,
  type RsaKeyPair,
} from '../../protocol/index.ts';
import { OAEP_FILES, type WycheproofGroup, wycheproofFile } from '../vectors/vectors.ts';
import { thrownCryptoError } from './crypto-error.ts';

// Project Wycheproof's vectors, kept in the repository (test/vectors/SOURCE.md).
const files = OAEP_FILES.map((name) => ({ name, data: wycheproofFile(name) }));

const cases = files.flatMap(({ name, data }) =>
  data.testGroups.flatMap((group) => group.tests.map((test) => ({ file: name, group, test }))),
);

const privateKeys = new Map<WycheproofGroup, KeyObject>();
function privateKeyOf(group: WycheproofGroup): KeyObject {
  let key = privateKeys.get(group);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.from(group.privateKeyPkcs8, 'hex'), format: 'der', type: 'pkcs8' });
    privateKeys.set(group, key);
  }
  return key;
}

describe('Wycheproof RSA-OAEP-2048 SHA-256/MGF1-SHA-256 vectors', () => {
  it('cover every test the files declare', () => {
    for (const { name, data } of files) {
      const count = data.testGroups.reduce((sum, group) => sum + group.tests.length, 0);
      expect(count, name).toBe(data.numberOfTests);
    }
    const count = (result: string) => cases.filter(({ test }) => test.result === result).length;
    // 37 + 3 per test/vectors/wycheproof/SOURCE.md: 21 valid, 19 invalid, none acceptable.
    expect([cases.length, count('valid'), count('invalid'), count('acceptable')]).toEqual([40, 21, 19, 0]);
    console.log(
      `wycheproof RSA-OAEP vectors: ${cases.length} (` +
        files.map(({ name, data }) => `${name}: ${data.numberOfTests}`).join(', ') +
        `; valid ${count('valid')}, invalid ${count('invalid')}, acceptable ${count('acceptable')})`,
    );
  });

  it('groups use the parameters v1 uses, and both key encodings agree', () => {
    for (const { data } of files) {
      expect(data.algorithm).toBe('RSAES-OAEP');
      for (const group of data.testGroups) {
        expect([group.type, group.keySize, group.sha, group.mgf, group.mgfSha]).toEqual([
          'RsaesOaepDecrypt',
          2048,
          'SHA-256',
          'MGF1',
          'SHA-256',
        ]);
        const fromPem = createPrivateKey(group.privateKeyPem);
        expect(fromPem.equals(privateKeyOf(group))).toBe(true);
      }
    }
  });

  it.each(cases)('$file tcId $test.tcId: $test.result $test.comment', ({ group, test }) => {
    const key = privateKeyOf(group);
    const ciphertext = Buffer.from(test.ct, 'hex');
    const label = Buffer.from(test.label, 'hex');
    const decrypt = () => oaepDecrypt(key, ciphertext, label);
    if (test.result === 'valid') {
      expect(decrypt().toString('hex')).toBe(test.msg);
      if (test.label === '') expect(oaepDecrypt(key, ciphertext).toString('hex')).toBe(test.msg);
    } else if (test.result === 'invalid') {
      const error = thrownCryptoError(decrypt);
      expect(error.code).toBe('ECP_DECRYPT_FAILED');
      // One message for every failure: the error must not tell padding failures apart (Manger).
      expect(error.message).toBe('RSA-OAEP decryption failed');
    } else {
      try {
        expect(decrypt().toString('hex')).toBe(test.msg);
      } catch (error) {
        if (!(error instanceof CryptoError)) throw error;
        expect(error.code).toBe('ECP_DECRYPT_FAILED');
      }
    }
  });
});

describe('RSA keys', () => {
  let pair: RsaKeyPair;
  let other: RsaKeyPair;
  const pems = new Map<number, string>();

  beforeAll(async () => {
    const [main, second, ...sized] = await Promise.all([
      generateRsaKeyPair(),
      generateRsaKeyPair(),
      generateRsaKeyPair(1024),
      generateRsaKeyPair(3072),
      generateRsaKeyPair(4096),
    ]);
    pair = main;
    other = second;
    for (const [bits, keys] of [1024, 3072, 4096].map((bits, i) => [bits, sized[i]] as const)) {
      pems.set(bits, keys!.publicKeyPem);
    }
    pems.set(2048, main.publicKeyPem);
  });

  it('generateRsaKeyPair makes a 2048-bit key with e = 65537 and an SPKI PEM', () => {
    expect(MIN_RSA_MODULUS_BITS).toBe(2048);
    expect(pair.publicKey.type).toBe('public');
    expect(pair.privateKey.type).toBe('private');
    expect(pair.publicKey.asymmetricKeyType).toBe('rsa');
    expect(pair.publicKey.asymmetricKeyDetails).toMatchObject({
      modulusLength: 2048,
      publicExponent: 65537n,
    });
    expect(pair.privateKey.asymmetricKeyDetails).toMatchObject({
      modulusLength: 2048,
      publicExponent: 65537n,
    });
    expect(pair.publicKeyPem.startsWith('-----BEGIN PUBLIC KEY-----\n')).toBe(true);
    expect(pair.publicKeyPem.endsWith('-----END PUBLIC KEY-----\n')).toBe(true);
    expect(pair.publicKeyPem).toBe(exportPublicKeyPem(pair.publicKey));
    expect(pair.publicKeyPem).not.toBe(other.publicKeyPem);
  });

  it('the PEM round-trips through importPublicKeyPem and exportPublicKeyPem', () => {
    const imported = importPublicKeyPem(pair.publicKeyPem);
    expect(imported.equals(pair.publicKey)).toBe(true);
    expect(exportPublicKeyPem(imported)).toBe(pair.publicKeyPem);
  });

  it('importPublicKeyPem accepts 2048, 3072 and 4096-bit RSA keys', () => {
    for (const bits of [2048, 3072, 4096]) {
      const key = importPublicKeyPem(pems.get(bits)!);
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(bits);
    }
  });

  it('importPublicKeyPem accepts CRLF line endings and blank lines around the PEM', () => {
    const key = importPublicKeyPem(`\r\n\n${pair.publicKeyPem.replaceAll('\n', '\r\n')}  \n\n`);
    expect(key.equals(pair.publicKey)).toBe(true);
  });

  it('importPublicKeyPem refuses a 1024-bit key with ECP_WEAK_KEY, naming the size', () => {
    const error = thrownCryptoError(() => importPublicKeyPem(pems.get(1024)!));
    expect(error.code).toBe('ECP_WEAK_KEY');
    expect(error.message).toBe('modulus is 1024 bits; at least 2048 required');
  });

  it('importPublicKeyPem honours minModulusBits', () => {
    expect(
      importPublicKeyPem(pems.get(1024)!, { minModulusBits: 1024 }).asymmetricKeyDetails?.modulusLength,
    ).toBe(1024);
    const error = thrownCryptoError(() => importPublicKeyPem(pair.publicKeyPem, { minModulusBits: 3072 }));
    expect(error.code).toBe('ECP_WEAK_KEY');
    expect(error.message).toBe('modulus is 2048 bits; at least 3072 required');
  });

  it('importPublicKeyPem refuses what is not a PEM SubjectPublicKeyInfo', () => {
    const body = pair.publicKeyPem.split('\n').slice(1, -2).join('\n');
    const notSpki: Array<[string, string]> = [
      ['garbage', 'hello world'],
      ['an empty string', ''],
      ['base64 DER without the PEM armour', body],
      ['the armour around garbage', '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n'],
      ['a truncated PEM', pair.publicKeyPem.slice(0, 200)],
      ['a corrupted body', pair.publicKeyPem.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA')],
      ['a private key PEM (PKCS#8)', pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
      ['a private key PEM (PKCS#1)', pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
      ['a PKCS#1 "RSA PUBLIC KEY" PEM', pair.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
    ];
    for (const [name, pem] of notSpki) {
      const error = thrownCryptoError(() => importPublicKeyPem(pem));
      expect({ name, code: error.code, message: error.message }).toEqual({
        name,
        code: 'ECP_INVALID_KEY',
        message: 'not a PEM SubjectPublicKeyInfo',
      });
    }
  });

  it('importPublicKeyPem refuses EC, Ed25519, X25519 and RSA-PSS keys as not RSA', () => {
    const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
    const notRsa: Array<[string, string]> = [
      ['EC P-256', spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)],
      ['Ed25519', spki(generateKeyPairSync('ed25519').publicKey)],
      ['X25519', spki(generateKeyPairSync('x25519').publicKey)],
      ['RSA-PSS', spki(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey)],
    ];
    for (const [name, pem] of notRsa) {
      expect(pem.startsWith('-----BEGIN PUBLIC KEY-----')).toBe(true);
      const error = thrownCryptoError(() => importPublicKeyPem(pem));
      expect({ name, code: error.code, message: error.message }).toEqual({
        name,
        code: 'ECP_INVALID_KEY',
        message: 'not an RSA key',
      });
    }
  });
});

describe('RSA-OAEP', () => {
  let pair: RsaKeyPair;
  let other: RsaKeyPair;

  beforeAll(async () => {
    [pair, other] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  });

  it('round-trips any message up to 190 bytes, the OAEP-SHA-256 maximum for 2048 bits (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 190 }), (data) => {
        const ciphertext = oaepEncrypt(pair.publicKey, data);
        expect(ciphertext.length).toBe(256);
        expect(oaepDecrypt(pair.privateKey, ciphertext).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 50 },
    );
    const longest = new Uint8Array(190).fill(7);
    expect(oaepDecrypt(pair.privateKey, oaepEncrypt(pair.publicKey, longest)).equals(longest)).toBe(true);
    expect(() => oaepEncrypt(pair.publicKey, new Uint8Array(191))).toThrow();
  });

  it('is randomized: the same message encrypts differently each time', () => {
    const data = Buffer.from('same');
    expect(oaepEncrypt(pair.publicKey, data).equals(oaepEncrypt(pair.publicKey, data))).toBe(false);
  });

  it('uses SHA-256 for both the hash and MGF1, and an empty label by default', () => {
    const data = Buffer.from('interoperable');
    const ours = oaepEncrypt(pair.publicKey, data);
    const plain = privateDecrypt(
      { key: pair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      ours,
    );
    expect(plain.equals(data)).toBe(true);
    const theirs = publicEncrypt(
      { key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      data,
    );
    expect(oaepDecrypt(pair.privateKey, theirs).equals(data)).toBe(true);
  });

  it('passes a label through, and refuses a mismatched one', () => {
    const data = Buffer.from('labelled');
    const label = Buffer.from('ecp-v1');
    const ciphertext = oaepEncrypt(pair.publicKey, data, label);
    expect(oaepDecrypt(pair.privateKey, ciphertext, label).equals(data)).toBe(true);
    expect(thrownCryptoError(() => oaepDecrypt(pair.privateKey, ciphertext)).code).toBe('ECP_DECRYPT_FAILED');
    expect(thrownCryptoError(() => oaepDecrypt(pair.privateKey, ciphertext, Buffer.from('other'))).code).toBe(
      'ECP_DECRYPT_FAILED',
    );
  });

  it('refuses with ECP_DECRYPT_FAILED: wrong key, SHA-1 OAEP, PKCS#1 v1.5, corrupt or wrong-sized ciphertext', () => {
    const data = Buffer.from('secret');
    const ciphertext = oaepEncrypt(pair.publicKey, data);
    const flipped = Buffer.from(ciphertext);
    flipped[100] = (flipped[100] ?? 0) ^ 1;
    const failures: Array<[string, Uint8Array]> = [
      ['another key', oaepEncrypt(other.publicKey, data)],
      [
        'SHA-1 OAEP',
        publicEncrypt(
          { key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
          data,
        ),
      ],
      ['PKCS#1 v1.5', publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_PADDING }, data)],
      ['a flipped bit', flipped],
      ['a truncated ciphertext', ciphertext.subarray(1)],
      ['an extended ciphertext', Buffer.concat([ciphertext, Buffer.alloc(1)])],
      ['an empty ciphertext', new Uint8Array(0)],
      ['all zeros', new Uint8Array(256)],
      ['all ones', new Uint8Array(256).fill(0xff)],
    ];
    for (const [name, bad] of failures) {
      const error = thrownCryptoError(() => oaepDecrypt(pair.privateKey, bad));
      expect({ name, code: error.code }).toEqual({ name, code: 'ECP_DECRYPT_FAILED' });
    }
  });
});
