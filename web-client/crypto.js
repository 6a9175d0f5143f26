// @ts-check
/**
 * ECP's cryptography on WebCrypto alone, as protocol/fernet.ts, rsa.ts and v1.ts do it on
 * node:crypto: the client's RSA-OAEP-2048 (SHA-256) key pair, the room key it unwraps, and Fernet
 * (AES-128-CBC with PKCS#7 padding, authenticated by HMAC-SHA256) for every chat payload. Errors
 * carry the same codes as the protocol library's CryptoError.
 */
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url, latin1 } from './base64.js';

/** @typedef {'ECP_INVALID_KEY' | 'ECP_INVALID_TOKEN' | 'ECP_TOKEN_EXPIRED' | 'ECP_DECRYPT_FAILED'} CryptoErrorCode */

export class CryptoError extends Error {
  /**
   * @param {CryptoErrorCode} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'CryptoError';
    /** @readonly */
    this.code = code;
  }
}

const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16; // version, timestamp, IV
const HMAC_BYTES = 32;
const BLOCK_BYTES = 16;
/** Tokens stamped further than this in the future are refused (the Fernet spec's clock skew). */
export const FERNET_MAX_CLOCK_SKEW_SECONDS = 60;

const OAEP = /** @type {const} */ ({ name: 'RSA-OAEP', hash: 'SHA-256' });
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * @typedef {object} FernetEncryptOptions
 * @property {Uint8Array<ArrayBuffer>} [iv] 16 bytes; random when omitted (fixed only for test vectors)
 * @property {Date | number} [now] the clock, for test vectors
 */

/**
 * @typedef {object} FernetDecryptOptions
 * @property {number} [ttlSeconds] refuse tokens older than this; no age limit when omitted (as v1)
 * @property {Date | number} [now] the clock, for test vectors
 */

/** Fernet (https://github.com/fernet/spec); its 32-byte key is the signing key, then the AES-128 key. */
export class Fernet {
  /** @type {CryptoKey} */ #signingKey;
  /** @type {CryptoKey} */ #encryptionKey;

  /**
   * @param {string} keyText the key as Fernet prints it: base64url of 32 bytes
   * @param {CryptoKey} signingKey
   * @param {CryptoKey} encryptionKey
   */
  constructor(keyText, signingKey, encryptionKey) {
    /** @readonly */
    this.keyText = keyText;
    this.#signingKey = signingKey;
    this.#encryptionKey = encryptionKey;
  }

  /**
   * @param {string} keyText 44 characters of base64url
   * @returns {Promise<Fernet>}
   */
  static async fromKeyText(keyText) {
    const raw = keyText.length === 44 ? decodeBase64Url(keyText) : undefined;
    if (raw === undefined || raw.length !== 32) {
      throw new CryptoError('ECP_INVALID_KEY', 'a Fernet key is 44 characters of base64url text');
    }
    const signingKey = await crypto.subtle.importKey(
      'raw',
      raw.subarray(0, 16),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    const encryptionKey = await crypto.subtle.importKey('raw', raw.subarray(16, 32), 'AES-CBC', false, [
      'encrypt',
      'decrypt',
    ]);
    return new Fernet(encodeBase64Url(raw), signingKey, encryptionKey);
  }

  /**
   * @param {Uint8Array<ArrayBuffer> | string} plaintext text is encoded as UTF-8
   * @param {FernetEncryptOptions} [options]
   * @returns {Promise<string>} the token, base64url with its `=` padding
   */
  async encrypt(plaintext, options = {}) {
    const iv = options.iv ?? crypto.getRandomValues(new Uint8Array(16));
    if (iv.length !== 16) throw new RangeError(`a Fernet IV is 16 bytes, got ${iv.length}`);
    const data = typeof plaintext === 'string' ? utf8.encode(plaintext) : plaintext;
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, this.#encryptionKey, data),
    );
    const signed = new Uint8Array(HEADER_BYTES + ciphertext.length);
    signed[0] = VERSION;
    new DataView(signed.buffer).setBigUint64(1, BigInt(secondsOf(options.now)));
    signed.set(iv, 9);
    signed.set(ciphertext, HEADER_BYTES);
    const hmac = new Uint8Array(await crypto.subtle.sign('HMAC', this.#signingKey, signed));
    const token = new Uint8Array(signed.length + HMAC_BYTES);
    token.set(signed);
    token.set(hmac, signed.length);
    return encodeBase64Url(token);
  }

  /**
   * @param {string} token
   * @param {FernetDecryptOptions} [options]
   * @returns {Promise<Uint8Array<ArrayBuffer>>} the plaintext
   */
  async decrypt(token, options = {}) {
    const bytes = decodeBase64Url(token);
    if (bytes === undefined) throw invalid('token is not valid base64url');
    if (bytes.length < HEADER_BYTES + HMAC_BYTES) throw invalid('token is too short');
    if (bytes[0] !== VERSION) throw invalid(`unknown token version 0x${bytes[0]?.toString(16)}`);
    const now = secondsOf(options.now);
    const timestamp = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(1));
    if (options.ttlSeconds !== undefined && timestamp + options.ttlSeconds < now) {
      throw new CryptoError('ECP_TOKEN_EXPIRED', `token is older than ${options.ttlSeconds} s`);
    }
    if (timestamp > now + FERNET_MAX_CLOCK_SKEW_SECONDS) {
      throw invalid('token timestamp lies too far in the future');
    }
    const signed = bytes.subarray(0, bytes.length - HMAC_BYTES);
    const hmac = bytes.subarray(bytes.length - HMAC_BYTES);
    // verify() compares in constant time.
    if (!(await crypto.subtle.verify('HMAC', this.#signingKey, hmac, signed))) {
      throw invalid('token HMAC does not match');
    }
    const ciphertext = signed.subarray(HEADER_BYTES);
    if (ciphertext.length === 0 || ciphertext.length % BLOCK_BYTES !== 0) {
      throw invalid('ciphertext is not a whole number of blocks');
    }
    try {
      const iv = signed.subarray(9, HEADER_BYTES);
      return new Uint8Array(
        await crypto.subtle.decrypt({ name: 'AES-CBC', iv }, this.#encryptionKey, ciphertext),
      );
    } catch {
      throw invalid('token padding is invalid');
    }
  }
}

/**
 * @typedef {object} RsaKeyPair
 * @property {CryptoKey} privateKey not extractable: it never leaves the page
 * @property {string} publicKeyPem SPKI PEM, as it travels in a v1 handshake
 */

/**
 * A fresh RSA-OAEP key pair: 2048 bits, e = 65537, SHA-256 (ECP-KX-01).
 * @returns {Promise<RsaKeyPair>}
 */
export async function generateRsaKeyPair() {
  const pair = await crypto.subtle.generateKey(
    { ...OAEP, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    false,
    ['encrypt', 'decrypt'],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  return { privateKey: pair.privateKey, publicKeyPem: pem('PUBLIC KEY', spki) };
}

/**
 * An RSA-OAEP (SHA-256) private key from PKCS#8 DER, for test vectors.
 * @param {Uint8Array<ArrayBuffer>} der
 * @returns {Promise<CryptoKey>}
 */
export function importPrivateKeyPkcs8(der) {
  return crypto.subtle.importKey('pkcs8', der, OAEP, false, ['decrypt']);
}

/**
 * RSA-OAEP with SHA-256 and MGF1-SHA-256; one error for every failure (no padding oracle).
 * @param {CryptoKey} privateKey
 * @param {Uint8Array<ArrayBuffer>} ciphertext
 * @param {Uint8Array<ArrayBuffer>} [label] empty when omitted
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
export async function oaepDecrypt(privateKey, ciphertext, label) {
  try {
    const params = label === undefined || label.length === 0 ? OAEP : { ...OAEP, label };
    return new Uint8Array(await crypto.subtle.decrypt(params, privateKey, ciphertext));
  } catch {
    throw new CryptoError('ECP_DECRYPT_FAILED', 'RSA-OAEP decryption failed');
  }
}

/**
 * A `key_exchange`'s `encrypted_key` opened (ECP-KX-06): standard base64 of RSA-OAEP over the
 * room key's 44-character text; the text must be a canonical Fernet key.
 * @param {string} encryptedKey
 * @param {CryptoKey} privateKey
 * @returns {Promise<Fernet>}
 */
export async function unwrapRoomKey(encryptedKey, privateKey) {
  const ciphertext = decodeBase64(encryptedKey);
  if (ciphertext === undefined)
    throw new CryptoError('ECP_DECRYPT_FAILED', 'encrypted_key is not standard base64');
  const keyText = latin1(await oaepDecrypt(privateKey, ciphertext));
  const room = await Fernet.fromKeyText(keyText);
  if (room.keyText !== keyText) {
    throw new CryptoError('ECP_INVALID_KEY', 'the decrypted room key is not a canonical Fernet key text');
  }
  return room;
}

/**
 * A chat `message` field: standard base64 of the Fernet token of the UTF-8 text (ECP-CHAT-06).
 * @param {Fernet} room
 * @param {string} text
 * @returns {Promise<string>}
 */
export async function sealText(room, text) {
  return encodeBase64(utf8.encode(await room.encrypt(text)));
}

/**
 * Inverse of sealText, without a TTL (ECP-CHAT-07). Throws ECP_INVALID_TOKEN for anything else.
 * @param {Fernet} room
 * @param {string} payload
 * @returns {Promise<string>}
 */
export async function openText(room, payload) {
  const token = decodeBase64(payload);
  if (token === undefined) throw invalid('message is not standard base64');
  return fromUtf8.decode(await room.decrypt(latin1(token)));
}

/**
 * @param {string} label
 * @param {Uint8Array<ArrayBuffer>} der
 */
function pem(label, der) {
  const lines = encodeBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** @param {Date | number | undefined} now */
function secondsOf(now) {
  const ms = now === undefined ? Date.now() : typeof now === 'number' ? now : now.getTime();
  return Math.floor(ms / 1000);
}

/** @param {string} reason */
function invalid(reason) {
  return new CryptoError('ECP_INVALID_TOKEN', reason);
}
