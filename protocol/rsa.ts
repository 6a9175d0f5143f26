import {
  constants,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { promisify } from 'node:util';
import { CryptoError } from './errors.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The smallest RSA modulus v1 peers accept (NIST's 112-bit security level). */
export const MIN_RSA_MODULUS_BITS = 2048;

export interface RsaKeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
  /** The public key as SPKI PEM, as it travels in a v1 handshake. */
  publicKeyPem: string;
}

/** A fresh RSA key pair (e = 65537), generated off the main thread. */
export async function generateRsaKeyPair(modulusLength = MIN_RSA_MODULUS_BITS): Promise<RsaKeyPair> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength,
    publicExponent: 65537,
  });
  return { publicKey, privateKey, publicKeyPem: exportPublicKeyPem(publicKey) };
}

export interface ImportPublicKeyOptions {
  /** Refuse keys with a smaller modulus. Default 2048. */
  minModulusBits?: number;
}

/**
 * Parses an SPKI PEM public key and checks that it is RSA with a large enough modulus.
 * Throws `ECP_INVALID_KEY` (not PEM SPKI, not RSA) or `ECP_WEAK_KEY` (modulus too small).
 */
export function importPublicKeyPem(pem: string, options: ImportPublicKeyOptions = {}): KeyObject {
  const minBits = options.minModulusBits ?? MIN_RSA_MODULUS_BITS;
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new CryptoError('ECP_INVALID_KEY', 'not a PEM SubjectPublicKeyInfo');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem', type: 'spki' });
  } catch (cause) {
    throw new CryptoError('ECP_INVALID_KEY', 'not a PEM SubjectPublicKeyInfo', { cause });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CryptoError('ECP_INVALID_KEY', 'not an RSA key');
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < minBits) {
    throw new CryptoError('ECP_WEAK_KEY', `modulus is ${bits} bits; at least ${minBits} required`);
  }
  return key;
}

export function exportPublicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** RSA-OAEP with SHA-256 and MGF1-SHA-256; empty label unless one is given. */
export function oaepEncrypt(publicKey: KeyObject, data: Uint8Array, label?: Uint8Array): Buffer {
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
    data,
  );
}

/** Inverse of `oaepEncrypt`. Throws `ECP_DECRYPT_FAILED`, one error for every failure (no oracle). */
export function oaepDecrypt(privateKey: KeyObject, ciphertext: Uint8Array, label?: Uint8Array): Buffer {
  try {
    return privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
      ciphertext,
    );
  } catch (cause) {
    throw new CryptoError('ECP_DECRYPT_FAILED', 'RSA-OAEP decryption failed', { cause });
  }
}
