/**
 * Importing a handshake's public key, fast. OpenSSL 3 decodes an SPKI by trying one decoder after
 * another: about 100 µs for an RSA-2048 key on the bench machine, the largest part of what a join
 * costs the server (docs/benchmarks.md). The PKCS#1 RSAPublicKey that an RSA SPKI wraps imports in
 * about 3 µs. So a key in the canonical form that key libraries write (PEM lines of 64 base64
 * characters around the DER of SEQUENCE { rsaEncryption, NULL } BIT STRING { RSAPublicKey }) is
 * unwrapped here and imported as PKCS#1. Anything else, and any key that is refused, goes to the
 * protocol's importPublicKeyPem, which decides and words every refusal: the fast path only ever
 * accepts, and it accepts the same key.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { importPublicKeyPem, MIN_RSA_MODULUS_BITS } from '../protocol/index.ts';

const BEGIN = '-----BEGIN PUBLIC KEY-----\n';
const END = '\n-----END PUBLIC KEY-----';
const SEQUENCE = 0x30;
const BIT_STRING = 0x03;
/** AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }, in DER. */
const RSA_ENCRYPTION = Buffer.from('300d06092a864886f70d0101010500', 'hex');
const BASE64_LINE = /^[A-Za-z0-9+/]{64}$/;
const LAST_BASE64_LINE = /^[A-Za-z0-9+/]{1,63}={0,2}$|^[A-Za-z0-9+/]{62}={0,2}$|^[A-Za-z0-9+/]{64}$/;

/** The same answer as importPublicKeyPem (a key, or its CryptoError), faster for canonical RSA keys. */
export function importHandshakeKey(pem: string): KeyObject {
  const pkcs1 = canonicalRsaPkcs1(pem);
  if (pkcs1 !== undefined) {
    try {
      const key = createPublicKey({ key: pkcs1, format: 'der', type: 'pkcs1' });
      if (
        key.asymmetricKeyType === 'rsa' &&
        (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS
      ) {
        return key;
      }
    } catch {
      // Not a valid RSAPublicKey: the full path below says so in its own words.
    }
  }
  return importPublicKeyPem(pem);
}

/** The RSAPublicKey DER inside a canonical RSA SPKI PEM, or undefined when the text is anything else. */
export function canonicalRsaPkcs1(pem: string): Buffer | undefined {
  const trimmed = pem.endsWith('\n') ? pem.slice(0, -1) : pem;
  if (!trimmed.startsWith(BEGIN) || !trimmed.endsWith(END)) return undefined;
  const lines = trimmed.slice(BEGIN.length, trimmed.length - END.length).split('\n');
  const last = lines.length - 1;
  for (let i = 0; i < last; i++) if (!BASE64_LINE.test(lines[i]!)) return undefined;
  if (!LAST_BASE64_LINE.test(lines[last]!)) return undefined;
  const body = lines.join('');
  const der = Buffer.from(body, 'base64');
  // Only the one encoding of these bytes: no stray padding, no bits the decoder dropped.
  if (der.toString('base64') !== body) return undefined;
  const outer = readHeader(der, 0, SEQUENCE);
  if (outer === undefined || outer.end !== der.length) return undefined;
  const algorithmEnd = outer.contentStart + RSA_ENCRYPTION.length;
  if (!der.subarray(outer.contentStart, algorithmEnd).equals(RSA_ENCRYPTION)) return undefined;
  const bits = readHeader(der, algorithmEnd, BIT_STRING);
  // One leading byte: the count of unused bits, which must be 0.
  if (bits === undefined || bits.end !== der.length || der[bits.contentStart] !== 0) return undefined;
  return der.subarray(bits.contentStart + 1, bits.end);
}

/** A DER tag and definite length (short form, or long form on one or two bytes, minimal). */
function readHeader(der: Buffer, at: number, tag: number): { contentStart: number; end: number } | undefined {
  if (der[at] !== tag) return undefined;
  const first = der[at + 1];
  if (first === undefined) return undefined;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = at + 2;
  } else if (first === 0x81 && (der[at + 2] ?? 0) >= 0x80) {
    length = der[at + 2]!;
    contentStart = at + 3;
  } else if (first === 0x82 && (der[at + 2] ?? 0) !== 0) {
    length = (der[at + 2]! << 8) | (der[at + 3] ?? 0);
    contentStart = at + 4;
  } else {
    return undefined;
  }
  const end = contentStart + length;
  return end <= der.length ? { contentStart, end } : undefined;
}
