import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CryptoError, generateRsaKeyPair, importPublicKeyPem } from '../../protocol/index.ts';
import { canonicalRsaPkcs1, importHandshakeKey } from '../../reference-server/public-key.ts';
import { testKeys } from '../support/test-keys.ts';

/** What an import gives: the key's SPKI bytes, or the refusal's code and text. */
function outcome(importKey: (pem: string) => KeyObject, pem: string): string {
  try {
    return `key ${importKey(pem).export({ type: 'spki', format: 'der' }).toString('hex')}`;
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    return `refused ${error.code}: ${error.message}`;
  }
}

function expectSameOutcome(pem: string): void {
  expect(outcome(importHandshakeKey, pem)).toBe(outcome(importPublicKeyPem, pem));
}

/** A canonical PEM around any bytes: 64 base64 characters a line. */
function pemOf(der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

let pem2048: string;
let der2048: Buffer;
let pem3072: string;
let weakPem: string;
beforeAll(async () => {
  const [key] = await testKeys();
  pem2048 = key!.publicKeyPem;
  der2048 = key!.publicKey.export({ type: 'spki', format: 'der' });
  pem3072 = (await generateRsaKeyPair(3072)).publicKeyPem;
  weakPem = (await generateRsaKeyPair(1024)).publicKeyPem;
});

describe('importHandshakeKey', () => {
  it('takes the PKCS#1 key out of a canonical RSA SPKI PEM, for any modulus size', () => {
    for (const pem of [pem2048, pem3072, weakPem]) {
      const pkcs1 = createPkcs1(pem);
      expect(canonicalRsaPkcs1(pem)).toEqual(pkcs1);
    }
  });

  it('gives exactly what importPublicKeyPem gives: the same key, or the same refusal', () => {
    const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const pssPem = generateKeyPairSync('rsa-pss', { modulusLength: 2048 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const pkcs1Pem = importPublicKeyPem(pem2048).export({ type: 'pkcs1', format: 'pem' }).toString();
    for (const pem of [pem2048, pem3072, weakPem, ecPem, pssPem, pkcs1Pem, 'not a key', '']) {
      expectSameOutcome(pem);
    }
  });

  it('leaves every form other than the canonical one to the full import', () => {
    const body = pem2048.split('\n').slice(1, -2).join('');
    const variants = [
      pem2048.replaceAll('\n', '\r\n'),
      `-----BEGIN PUBLIC KEY-----\n${body.match(/.{1,76}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`,
      `  ${pem2048}`,
      `${pem2048}trailing`,
      pem2048.replace('-----END PUBLIC KEY-----', '-----END PUBLIC KEY-----\n\n'),
      pemOf(Buffer.concat([der2048, Buffer.from([0])])),
    ];
    for (const pem of variants) {
      expect(canonicalRsaPkcs1(pem)).toBeUndefined();
      expectSameOutcome(pem);
    }
  });

  it('agrees with importPublicKeyPem on damaged keys: any bytes changed, cut or added', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.integer({ min: -8, max: 8 }),
        (changes, lengthChange) => {
          const der = Buffer.from(der2048);
          for (const { at, byte } of changes) der[at % 40] = byte;
          const resized =
            lengthChange < 0
              ? der.subarray(0, der.length + lengthChange)
              : Buffer.concat([der, Buffer.alloc(lengthChange, 0x41)]);
          expectSameOutcome(pemOf(resized));
        },
      ),
      { numRuns: 300 },
    );
  });
});

function createPkcs1(pem: string): Buffer {
  return importPublicKeyPem(pem, { minModulusBits: 0 }).export({ type: 'pkcs1', format: 'der' });
}
