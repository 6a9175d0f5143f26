/**
 * The v1 encodings exactly as the prototype does them (docs/protocol.md, Key exchange and Chat):
 * - the room key travels as RSA-OAEP over the 44 ASCII bytes of its base64url TEXT, then standard
 *   base64 with padding;
 * - a chat payload is standard base64 of the Fernet token's ASCII bytes (the token is encoded twice).
 */
import type { KeyObject } from 'node:crypto';
import { CryptoError } from './errors.ts';
import { Fernet } from './fernet.ts';
import { importPublicKeyPem, oaepDecrypt, oaepEncrypt } from './rsa.ts';

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `encrypted_key` for a `key_exchange`: base64(RSA-OAEP-SHA256(ASCII(roomKeyText))). */
export function wrapRoomKey(roomKeyText: string, clientPublicKey: KeyObject | string): string {
  const key = typeof clientPublicKey === 'string' ? importPublicKeyPem(clientPublicKey) : clientPublicKey;
  return oaepEncrypt(key, Buffer.from(roomKeyText, 'ascii')).toString('base64');
}

/** Inverse of `wrapRoomKey`: the 44-character room key text, checked to be a usable Fernet key. */
export function unwrapRoomKey(encryptedKey: string, privateKey: KeyObject): string {
  const ciphertext = decodeStandardBase64(encryptedKey, 'encrypted_key');
  const keyText = oaepDecrypt(privateKey, ciphertext).toString('latin1');
  // Throws ECP_INVALID_KEY for a raw 32-byte key or anything else that is not the key text.
  return new Fernet(keyText).keyText === keyText ? keyText : invalidKeyText();
}

/** A chat `message` field: base64(FernetToken) of the UTF-8 text. */
export function sealText(room: Fernet, text: string): string {
  return Buffer.from(room.encrypt(text), 'ascii').toString('base64');
}

/** Inverse of `sealText`. Throws `ECP_INVALID_TOKEN` for anything that is not a sealed text. */
export function openText(room: Fernet, payload: string): string {
  const token = decodeStandardBase64(payload, 'message').toString('latin1');
  return room.decrypt(token).toString('utf8');
}

function decodeStandardBase64(text: string, what: string): Buffer {
  if (text.length % 4 !== 0 || !STANDARD_BASE64.test(text)) {
    throw new CryptoError(
      what === 'message' ? 'ECP_INVALID_TOKEN' : 'ECP_DECRYPT_FAILED',
      `${what} is not standard base64`,
    );
  }
  return Buffer.from(text, 'base64');
}

function invalidKeyText(): never {
  throw new CryptoError('ECP_INVALID_KEY', 'the decrypted room key is not a canonical Fernet key text');
}
