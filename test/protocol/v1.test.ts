import { constants, createCipheriv, createHash, createHmac, publicEncrypt } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Fernet,
  type FernetEncryptOptions,
  generateRsaKeyPair,
  oaepEncrypt,
  openText,
  type RsaKeyPair,
  sealText,
  unwrapRoomKey,
  wrapRoomKey,
} from '../../protocol/index.ts';
import { thrownCryptoError } from './crypto-error.ts';

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

// Fixed inputs, chosen here (not taken from the shared vectors).
const ROOM_KEY_BYTES = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff));
const ROOM_KEY_TEXT = `${ROOM_KEY_BYTES.toString('base64url')}=`;
const IV = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xf0 - i));
const NOW = Date.UTC(2024, 2, 14, 15, 9, 26);

/** A Fernet token made from node:crypto primitives alone, as the prototype's library would make it. */
function tokenByHand(text: string, keyBytes: Buffer, iv: Buffer, nowMs: number): string {
  const cipher = createCipheriv('aes-128-cbc', keyBytes.subarray(16), iv);
  const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  const header = Buffer.alloc(25);
  header[0] = 0x80;
  header.writeBigUInt64BE(BigInt(Math.floor(nowMs / 1000)), 1);
  iv.copy(header, 9);
  const hmac = createHmac('sha256', keyBytes.subarray(0, 16)).update(header).update(ciphertext).digest();
  const body = Buffer.concat([header, ciphertext, hmac]).toString('base64url');
  return body + '='.repeat((4 - (body.length % 4)) % 4);
}

/** A room whose tokens are reproducible: fixed IV and clock. */
class FixedFernet extends Fernet {
  override encrypt(plaintext: Uint8Array | string, _options?: FernetEncryptOptions): string {
    return super.encrypt(plaintext, { iv: IV, now: NOW });
  }
}

describe('room key wrapping (key_exchange encrypted_key)', () => {
  let client: RsaKeyPair;
  let stranger: RsaKeyPair;

  beforeAll(async () => {
    [client, stranger] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair()]);
  });

  it('wrapRoomKey gives 344 characters of padded standard base64 for a 2048-bit key', () => {
    const wrapped = wrapRoomKey(ROOM_KEY_TEXT, client.publicKey);
    expect(wrapped).toHaveLength(344);
    expect(wrapped).toMatch(/^[A-Za-z0-9+/]{342}==$/);
    expect(Buffer.from(wrapped, 'base64')).toHaveLength(256);
  });

  it('unwrapRoomKey returns the exact 44-character key text, not 32 raw bytes', () => {
    const keyText = unwrapRoomKey(wrapRoomKey(ROOM_KEY_TEXT, client.publicKey), client.privateKey);
    expect(typeof keyText).toBe('string');
    expect(keyText).toHaveLength(44);
    expect(keyText).toBe(ROOM_KEY_TEXT);
    expect(new Fernet(keyText).keyText).toBe(ROOM_KEY_TEXT);
  });

  it('wraps the ASCII bytes of the key text with RSA-OAEP-SHA-256 (the prototype wire format)', () => {
    // What the prototype client does: base64-decode, OAEP-decrypt, use the 44 bytes as the key.
    const wrapped = wrapRoomKey(ROOM_KEY_TEXT, client.publicKey);
    const manual = Buffer.from(oaepEncrypt(client.publicKey, Buffer.from(ROOM_KEY_TEXT, 'ascii'))).toString(
      'base64',
    );
    expect(unwrapRoomKey(manual, client.privateKey)).toBe(ROOM_KEY_TEXT);
    expect(unwrapRoomKey(wrapped, client.privateKey)).toBe(ROOM_KEY_TEXT);
  });

  it('wrapRoomKey takes the client key as a KeyObject or as the handshake PEM', () => {
    const wrapped = wrapRoomKey(ROOM_KEY_TEXT, client.publicKeyPem);
    expect(wrapped).toMatch(/^[A-Za-z0-9+/]{342}==$/);
    expect(unwrapRoomKey(wrapped, client.privateKey)).toBe(ROOM_KEY_TEXT);
  });

  it('wrapRoomKey refuses a weak or non-RSA PEM', async () => {
    const weak = await generateRsaKeyPair(1024);
    expect(thrownCryptoError(() => wrapRoomKey(ROOM_KEY_TEXT, weak.publicKeyPem)).code).toBe('ECP_WEAK_KEY');
    expect(thrownCryptoError(() => wrapRoomKey(ROOM_KEY_TEXT, 'not a key')).code).toBe('ECP_INVALID_KEY');
  });

  it('round-trips freshly generated room keys', () => {
    for (let i = 0; i < 10; i++) {
      const keyText = Fernet.generateKey();
      expect(unwrapRoomKey(wrapRoomKey(keyText, client.publicKey), client.privateKey)).toBe(keyText);
    }
  });

  it('refuses a key_exchange that wraps the 32 raw key bytes instead of the text (ECP_INVALID_KEY)', () => {
    const wrapped = oaepEncrypt(client.publicKey, ROOM_KEY_BYTES).toString('base64');
    expect(wrapped).toMatch(/^[A-Za-z0-9+/]{342}==$/);
    expect(thrownCryptoError(() => unwrapRoomKey(wrapped, client.privateKey)).code).toBe('ECP_INVALID_KEY');
  });

  it('refuses wrapped text that is not a canonical Fernet key text (ECP_INVALID_KEY)', () => {
    // Same 32 bytes, but the unused low bits of the last character are set: not what Fernet prints.
    const last = ROOM_KEY_TEXT[42]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const nonCanonical = `${ROOM_KEY_TEXT.slice(0, 42)}${alphabet[alphabet.indexOf(last) | 1]}=`;
    expect(nonCanonical).not.toBe(ROOM_KEY_TEXT);
    expect(Buffer.from(nonCanonical, 'base64url').equals(ROOM_KEY_BYTES)).toBe(true);
    for (const text of [nonCanonical, 'x'.repeat(44), `${ROOM_KEY_TEXT}\n`, ROOM_KEY_TEXT.slice(0, 43)]) {
      const wrapped = oaepEncrypt(client.publicKey, Buffer.from(text, 'latin1')).toString('base64');
      expect(
        thrownCryptoError(() => unwrapRoomKey(wrapped, client.privateKey)).code,
        JSON.stringify(text),
      ).toBe('ECP_INVALID_KEY');
    }
  });

  it('refuses a key wrapped with SHA-1 OAEP (ECP_DECRYPT_FAILED)', () => {
    const sha1 = publicEncrypt(
      { key: client.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(ROOM_KEY_TEXT, 'ascii'),
    ).toString('base64');
    expect(thrownCryptoError(() => unwrapRoomKey(sha1, client.privateKey)).code).toBe('ECP_DECRYPT_FAILED');
  });

  it('refuses a key wrapped for another client (ECP_DECRYPT_FAILED)', () => {
    const wrapped = wrapRoomKey(ROOM_KEY_TEXT, stranger.publicKey);
    expect(thrownCryptoError(() => unwrapRoomKey(wrapped, client.privateKey)).code).toBe(
      'ECP_DECRYPT_FAILED',
    );
  });

  it('refuses encrypted_key text that is not standard base64 (ECP_DECRYPT_FAILED)', () => {
    const wrapped = wrapRoomKey(ROOM_KEY_TEXT, client.publicKey);
    const bad = [
      '',
      'not base64!',
      wrapped.slice(0, -2), // padding dropped
      wrapped.replaceAll('+', '-').replaceAll('/', '_'), // base64url
      `${wrapped}\n`,
      Buffer.from(wrapped, 'base64').toString('hex'),
    ];
    for (const text of bad) {
      if (text === wrapped) continue;
      expect(thrownCryptoError(() => unwrapRoomKey(text, client.privateKey)).code, text.slice(0, 20)).toBe(
        'ECP_DECRYPT_FAILED',
      );
    }
  });
});

describe('chat payloads (message field)', () => {
  const room = new Fernet(ROOM_KEY_TEXT);

  it('sealText encodes twice: base64 of the Fernet token text, pinned with a fixed IV and time', () => {
    const fixed = new FixedFernet(ROOM_KEY_TEXT);
    const token = new Fernet(ROOM_KEY_TEXT).encrypt('hello, v1', { iv: IV, now: NOW });
    expect(token).toBe(tokenByHand('hello, v1', ROOM_KEY_BYTES, IV, NOW));
    const expected = Buffer.from(token, 'ascii').toString('base64');
    expect(sealText(fixed, 'hello, v1')).toBe(expected);
    expect(openText(room, expected)).toBe('hello, v1');
  });

  it('a sealed payload is standard base64 whose decoding is an ASCII Fernet token of the text', () => {
    const payload = sealText(room, 'grüße 😀');
    expect(payload).toMatch(STANDARD_BASE64);
    expect(payload.length % 4).toBe(0);
    const token = Buffer.from(payload, 'base64').toString('latin1');
    expect(token).toMatch(/^gAAAAA[A-Za-z0-9_-]+={0,2}$/);
    expect(room.decrypt(token).toString('utf8')).toBe('grüße 😀');
  });

  it('sealText uses a fresh IV for each message', () => {
    expect(sealText(room, 'same')).not.toBe(sealText(room, 'same'));
  });

  it('openText reads a payload made the way the prototype makes it', () => {
    // Python: base64.b64encode(Fernet(key).encrypt(text.encode())).decode()
    const made = Date.UTC(2023, 10, 5, 8, 0, 0);
    const payload = Buffer.from(
      tokenByHand('héllo from python 🐍', ROOM_KEY_BYTES, IV, made),
      'ascii',
    ).toString('base64');
    expect(openText(room, payload)).toBe('héllo from python 🐍');
  });

  it('openText refuses a single-encoded token (ECP_INVALID_TOKEN)', () => {
    const withUrlChars = room.encrypt('once');
    expect(thrownCryptoError(() => openText(room, withUrlChars)).code).toBe('ECP_INVALID_TOKEN');
    // A token without '-' or '_' is also valid standard base64: it must still be refused.
    let plain: string | undefined;
    for (let i = 0; i < 5000 && plain === undefined; i++) {
      const iv = createHash('sha256').update(`iv ${i}`).digest().subarray(0, 16);
      const token = room.encrypt('once', { iv, now: NOW });
      if (!/[-_]/.test(token)) plain = token;
    }
    expect(plain).toBeDefined();
    expect(thrownCryptoError(() => openText(room, plain!)).code).toBe('ECP_INVALID_TOKEN');
  });

  it('openText refuses what is not base64 (ECP_INVALID_TOKEN)', () => {
    const payload = sealText(room, 'x');
    for (const bad of [
      '',
      'not base64!',
      'abc',
      payload.slice(0, -1),
      `${payload}\n`,
      `${payload.slice(0, -4)}-_-_`,
    ]) {
      expect(thrownCryptoError(() => openText(room, bad)).code, JSON.stringify(bad)).toBe(
        'ECP_INVALID_TOKEN',
      );
    }
  });

  it('openText refuses base64 of something that is not a token (ECP_INVALID_TOKEN)', () => {
    for (const inner of ['hello', 'gAAAAA', 'x'.repeat(120), '\u0080\u00ff']) {
      const payload = Buffer.from(inner, 'latin1').toString('base64');
      expect(thrownCryptoError(() => openText(room, payload)).code, inner).toBe('ECP_INVALID_TOKEN');
    }
  });

  it('openText refuses a payload sealed with another key (ECP_INVALID_TOKEN)', () => {
    const payload = sealText(new Fernet(Fernet.generateKey()), 'not for this room');
    expect(thrownCryptoError(() => openText(room, payload)).code).toBe('ECP_INVALID_TOKEN');
  });

  it('unicode texts round-trip (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 80 }),
          fc.string({ unit: 'grapheme', maxLength: 40 }),
        ),
        (text) => {
          const payload = sealText(room, text);
          expect(payload).toMatch(STANDARD_BASE64);
          expect(openText(room, payload)).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});
