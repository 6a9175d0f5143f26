import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CryptoError } from './errors.ts';

const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16; // version, timestamp, IV
const HMAC_BYTES = 32;
const BLOCK_BYTES = 16;
/** Tokens stamped further than this in the future are refused (the Fernet spec's clock skew). */
export const FERNET_MAX_CLOCK_SKEW_SECONDS = 60;

export interface FernetEncryptOptions {
  /** 16 bytes; random when omitted. Fixed only for test vectors. */
  iv?: Uint8Array;
  /** The clock, for test vectors; `Date.now()` when omitted. */
  now?: Date | number;
}

export interface FernetDecryptOptions {
  /** Refuse tokens older than this many seconds. No age limit when omitted (as v1 does). */
  ttlSeconds?: number;
  /** The clock, for test vectors; `Date.now()` when omitted. */
  now?: Date | number;
}

/**
 * Fernet (https://github.com/fernet/spec): AES-128-CBC with PKCS#7 padding, authenticated by
 * HMAC-SHA256 over version, timestamp, IV and ciphertext. Its 32-byte key is 16 bytes of signing
 * key followed by 16 bytes of encryption key, so it is AES-128, not AES-256.
 */
export class Fernet {
  /** The key as Fernet prints it: base64url of 32 bytes, 44 characters with one '='. */
  readonly keyText: string;
  readonly #signingKey: Buffer;
  readonly #encryptionKey: Buffer;

  /** A fresh random key, as its 44-character base64url text. */
  static generateKey(): string {
    return randomBytes(32).toString('base64url').concat('=');
  }

  constructor(key: string | Uint8Array) {
    const raw = typeof key === 'string' ? decodeKeyText(key) : Buffer.from(key);
    if (raw.length !== 32) {
      throw new CryptoError('ECP_INVALID_KEY', `a Fernet key is 32 bytes, got ${raw.length}`);
    }
    this.#signingKey = raw.subarray(0, 16);
    this.#encryptionKey = raw.subarray(16, 32);
    this.keyText = `${raw.toString('base64url')}=`;
  }

  encrypt(plaintext: Uint8Array | string, options: FernetEncryptOptions = {}): string {
    const iv = options.iv === undefined ? randomBytes(16) : Buffer.from(options.iv);
    if (iv.length !== 16) throw new RangeError(`a Fernet IV is 16 bytes, got ${iv.length}`);
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const cipher = createCipheriv('aes-128-cbc', this.#encryptionKey, iv);
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(secondsOf(options.now)), 1);
    iv.copy(header, 9);
    const hmac = createHmac('sha256', this.#signingKey).update(header).update(ciphertext).digest();
    return Buffer.concat([header, ciphertext, hmac]).toString('base64url') + padding(header, ciphertext);
  }

  decrypt(token: string, options: FernetDecryptOptions = {}): Buffer {
    const bytes = decodeToken(token);
    if (bytes.length < HEADER_BYTES + HMAC_BYTES) throw invalid('token is too short');
    if (bytes[0] !== VERSION) throw invalid(`unknown token version 0x${bytes[0]?.toString(16)}`);
    const now = secondsOf(options.now);
    const timestamp = Number(bytes.readBigUInt64BE(1));
    if (options.ttlSeconds !== undefined && timestamp + options.ttlSeconds < now) {
      throw new CryptoError('ECP_TOKEN_EXPIRED', `token is older than ${options.ttlSeconds} s`);
    }
    if (timestamp > now + FERNET_MAX_CLOCK_SKEW_SECONDS) {
      throw invalid('token timestamp lies too far in the future');
    }
    const signed = bytes.subarray(0, bytes.length - HMAC_BYTES);
    const expected = createHmac('sha256', this.#signingKey).update(signed).digest();
    if (!timingSafeEqual(expected, bytes.subarray(bytes.length - HMAC_BYTES))) {
      throw invalid('token HMAC does not match');
    }
    const ciphertext = signed.subarray(HEADER_BYTES);
    if (ciphertext.length === 0 || ciphertext.length % BLOCK_BYTES !== 0) {
      throw invalid('ciphertext is not a whole number of blocks');
    }
    const decipher = createDecipheriv('aes-128-cbc', this.#encryptionKey, signed.subarray(9, HEADER_BYTES));
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch (cause) {
      throw new CryptoError('ECP_INVALID_TOKEN', 'token padding is invalid', { cause });
    }
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeKeyText(text: string): Buffer {
  if (text.length !== 44 || !BASE64URL.test(text)) {
    throw new CryptoError('ECP_INVALID_KEY', 'a Fernet key is 44 characters of base64url text');
  }
  return Buffer.from(text, 'base64url');
}

function decodeToken(token: string): Buffer {
  // Node's decoder skips characters outside the alphabet; the spec requires refusing them.
  if (!BASE64URL.test(token) || token.length % 4 === 1) throw invalid('token is not valid base64url');
  return Buffer.from(token, 'base64url');
}

/** Fernet tokens keep their '=' padding; Node's base64url encoder drops it. */
function padding(header: Buffer, ciphertext: Buffer): string {
  const total = header.length + ciphertext.length + HMAC_BYTES;
  return '='.repeat((3 - (total % 3)) % 3);
}

function secondsOf(now: Date | number | undefined): number {
  const ms = now === undefined ? Date.now() : typeof now === 'number' ? now : now.getTime();
  return Math.floor(ms / 1000);
}

function invalid(reason: string): CryptoError {
  return new CryptoError('ECP_INVALID_TOKEN', reason);
}
