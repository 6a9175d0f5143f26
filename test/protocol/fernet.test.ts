import { createCipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CryptoError, FERNET_MAX_CLOCK_SKEW_SECONDS, Fernet } from '../../protocol/index.ts';
import { fernetVectors } from '../vectors/vectors.ts';
import { thrownCryptoError } from './crypto-error.ts';

// The Fernet specification's own vectors, kept verbatim in the repository (test/vectors/SOURCE.md).
const generate = fernetVectors('generate');
const verify = fernetVectors('verify');
const invalid = fernetVectors('invalid');

function base64urlPadded(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

const KEY = Fernet.generateKey();

describe('Fernet specification vectors', () => {
  it('are all present: 1 generate, 1 verify, 8 invalid', () => {
    expect([generate.length, verify.length, invalid.length]).toEqual([1, 1, 8]);
    console.log(
      `fernet vectors: ${generate.length} generate, ${verify.length} verify, ${invalid.length} invalid`,
    );
  });

  it.each(generate)('generate: $src at $now gives the exact token', (vector) => {
    const fernet = new Fernet(vector.secret);
    const token = fernet.encrypt(vector.src ?? '', {
      iv: Uint8Array.from(vector.iv ?? []),
      now: new Date(vector.now),
    });
    expect(token).toBe(vector.token);
    expect(fernet.decrypt(token, { now: new Date(vector.now) }).toString('utf8')).toBe(vector.src);
  });

  it.each(verify)('verify: $token decrypts to $src', (vector) => {
    const plaintext = new Fernet(vector.secret).decrypt(vector.token, {
      ttlSeconds: vector.ttl_sec,
      now: new Date(vector.now),
    });
    expect(Buffer.isBuffer(plaintext)).toBe(true);
    expect(plaintext.toString('utf8')).toBe(vector.src);
  });

  it.each(invalid)('invalid: $desc', (vector) => {
    const error = thrownCryptoError(() =>
      new Fernet(vector.secret).decrypt(vector.token, {
        ttlSeconds: vector.ttl_sec,
        now: new Date(vector.now),
      }),
    );
    expect(error.code).toBe(vector.desc === 'expired TTL' ? 'ECP_TOKEN_EXPIRED' : 'ECP_INVALID_TOKEN');
  });
});

describe('Fernet keys', () => {
  it('generateKey gives 44 characters of base64url ending in "=" that decode to 32 bytes', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const key = Fernet.generateKey();
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
      expect(Buffer.from(key, 'base64url').length).toBe(32);
      expect(new Fernet(key).keyText).toBe(key);
      keys.add(key);
    }
    expect(keys.size).toBe(50);
  });

  it('keyText of a key given as 32 bytes is its base64url text with the "=" padding', () => {
    const raw = Uint8Array.from({ length: 32 }, (_, i) => 255 - i * 3);
    const fernet = new Fernet(raw);
    expect(fernet.keyText).toBe(`${Buffer.from(raw).toString('base64url')}=`);
    // The same key given as text or as bytes makes tokens the other can open.
    expect(new Fernet(fernet.keyText).decrypt(fernet.encrypt('same key')).toString()).toBe('same key');
  });

  it('splits the key as the spec says: signing key first, AES-128 key second', () => {
    const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));
    const iv = Buffer.alloc(16, 9);
    const now = Date.UTC(2024, 0, 2, 3, 4, 5);
    const cipher = createCipheriv('aes-128-cbc', raw.subarray(16), iv);
    const ciphertext = Buffer.concat([cipher.update('by hand'), cipher.final()]);
    const header = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(8), iv]);
    header.writeBigUInt64BE(BigInt(now / 1000), 1);
    const hmac = createHmac('sha256', raw.subarray(0, 16)).update(header).update(ciphertext).digest();
    const expected = base64urlPadded(Buffer.concat([header, ciphertext, hmac]));
    expect(new Fernet(raw).encrypt('by hand', { iv, now })).toBe(expected);
  });

  const badKeyTexts: Array<[string, string]> = [
    ['empty', ''],
    ['43 characters', KEY.slice(0, 43)],
    ['45 characters', `${KEY}=`],
    ['44 characters without "=" (33 bytes)', `${KEY.slice(0, 43)}A`],
    ['44 characters with "==" (31 bytes)', `${KEY.slice(0, 42)}==`],
    ['standard base64 "+"', `+${KEY.slice(1)}`],
    ['standard base64 "/"', `/${KEY.slice(1)}`],
    ['a space', ` ${KEY.slice(1)}`],
    ['"=" in the middle', `${KEY.slice(0, 20)}=${KEY.slice(21)}`],
    ['non-ASCII', `é${KEY.slice(1)}`],
    ['a raw 32-character string', 'x'.repeat(32)],
  ];

  it.each(badKeyTexts)('refuses a key text that is %s with ECP_INVALID_KEY', (_name, keyText) => {
    expect(thrownCryptoError(() => new Fernet(keyText)).code).toBe('ECP_INVALID_KEY');
  });

  it.each([0, 16, 31, 33, 64])('refuses a key of %i bytes with ECP_INVALID_KEY', (length) => {
    expect(thrownCryptoError(() => new Fernet(new Uint8Array(length))).code).toBe('ECP_INVALID_KEY');
  });
});

describe('Fernet tokens', () => {
  const fernet = new Fernet(KEY);

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(fernet.decrypt(fernet.encrypt(bytes)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips any text as UTF-8 (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (text) => {
        expect(fernet.decrypt(fernet.encrypt(text)).toString('utf8')).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('have the spec layout and keep their "=" padding (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        (bytes, seconds) => {
          const token = fernet.encrypt(bytes, { now: seconds * 1000 });
          expect(token).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
          expect(token.length % 4).toBe(0);
          expect(token.startsWith('gAAAAA')).toBe(true);
          const raw = Buffer.from(token, 'base64url');
          expect(token).toBe(base64urlPadded(raw));
          expect(raw.length).toBe(1 + 8 + 16 + 16 * (Math.floor(bytes.length / 16) + 1) + 32);
          expect(raw[0]).toBe(0x80);
          expect(raw.readBigUInt64BE(1)).toBe(BigInt(seconds));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('use a fresh random IV each time', () => {
    const a = Buffer.from(fernet.encrypt('same'), 'base64url');
    const b = Buffer.from(fernet.encrypt('same'), 'base64url');
    expect(a.subarray(9, 25).equals(b.subarray(9, 25))).toBe(false);
  });

  it('refuses an IV that is not 16 bytes', () => {
    expect(() => fernet.encrypt('x', { iv: new Uint8Array(15) })).toThrow(RangeError);
    expect(() => fernet.encrypt('x', { iv: new Uint8Array(17) })).toThrow(RangeError);
  });

  it('rejects a token with any byte changed', () => {
    const token = fernet.encrypt('tamper with me, please');
    const raw = Buffer.from(token, 'base64url');
    let rejected = 0;
    for (let i = 0; i < raw.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const tampered = Buffer.from(raw);
        tampered[i] = (tampered[i] ?? 0) ^ flip;
        expect(
          thrownCryptoError(() => fernet.decrypt(base64urlPadded(tampered))).code,
          `byte ${i} ^ ${flip}`,
        ).toBe('ECP_INVALID_TOKEN');
        rejected++;
      }
    }
    expect(rejected).toBe(raw.length * 3);
  });

  it('rejects a token with any character changed, unless it only touched unused padding bits', () => {
    const token = fernet.encrypt('tamper with the text');
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < token.length; i++) {
      for (const replacement of ['A', 'z', '-', '=', '+', '.']) {
        if (token[i] === replacement) continue;
        const tampered = token.slice(0, i) + replacement + token.slice(i + 1);
        try {
          fernet.decrypt(tampered);
        } catch (error) {
          expect((error as CryptoError).code).toBe('ECP_INVALID_TOKEN');
          continue;
        }
        // Accepted: only possible when the change is invisible once decoded (base64 trailing bits).
        expect(Buffer.from(tampered, 'base64url').equals(raw), `${i} -> ${replacement}`).toBe(true);
        expect(i).toBeGreaterThanOrEqual(token.replace(/=+$/, '').length - 1);
      }
    }
  });

  it('rejects a truncated or extended token', () => {
    const raw = Buffer.from(fernet.encrypt('length'), 'base64url');
    for (const changed of [
      raw.subarray(0, -1),
      raw.subarray(0, -16),
      Buffer.concat([raw, Buffer.alloc(1)]),
    ]) {
      expect(thrownCryptoError(() => fernet.decrypt(base64urlPadded(changed))).code).toBe(
        'ECP_INVALID_TOKEN',
      );
    }
    expect(thrownCryptoError(() => fernet.decrypt('')).code).toBe('ECP_INVALID_TOKEN');
  });

  it('rejects a token made with another key', () => {
    const other = new Fernet(Fernet.generateKey());
    expect(thrownCryptoError(() => fernet.decrypt(other.encrypt('not for you'))).code).toBe(
      'ECP_INVALID_TOKEN',
    );
  });

  it('rejects a token with characters outside base64url', () => {
    const token = fernet.encrypt('alphabet');
    for (const bad of [
      `${token}\n`,
      ` ${token}`,
      token.replace(/[A-Za-z]/, '%'),
      Buffer.from(token, 'base64url').toString('base64'),
    ]) {
      if (bad === token) continue;
      expect(thrownCryptoError(() => fernet.decrypt(bad)).code).toBe('ECP_INVALID_TOKEN');
    }
  });

  it('has no age limit without a TTL (as v1), and honours one when given', () => {
    const made = Date.UTC(2001, 0, 1);
    const token = fernet.encrypt('old', { now: made });
    expect(fernet.decrypt(token, { now: Date.UTC(2030, 0, 1) }).toString()).toBe('old');
    expect(fernet.decrypt(token, { ttlSeconds: 60, now: made + 60_000 }).toString()).toBe('old');
    expect(thrownCryptoError(() => fernet.decrypt(token, { ttlSeconds: 60, now: made + 61_000 })).code).toBe(
      'ECP_TOKEN_EXPIRED',
    );
  });

  it('accepts up to 60 s of clock skew into the future, and no more', () => {
    expect(FERNET_MAX_CLOCK_SKEW_SECONDS).toBe(60);
    const now = Date.UTC(2024, 5, 1);
    const early = fernet.encrypt('from the future', { now: now + 60_000 });
    expect(fernet.decrypt(early, { now }).toString()).toBe('from the future');
    const tooEarly = fernet.encrypt('from the future', { now: now + 61_000 });
    expect(thrownCryptoError(() => fernet.decrypt(tooEarly, { now })).code).toBe('ECP_INVALID_TOKEN');
  });

  it('takes the clock as a Date or as milliseconds', () => {
    const ms = Date.UTC(2020, 1, 29, 12);
    const iv = new Uint8Array(16);
    expect(fernet.encrypt('t', { iv, now: ms })).toBe(fernet.encrypt('t', { iv, now: new Date(ms) }));
  });
});
