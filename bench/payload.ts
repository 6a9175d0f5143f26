/**
 * Bench payloads: real v1 chat payloads (standard base64 of a genuine Fernet token under the room
 * key) whose accounting fields a receiver can read WITHOUT decrypting.
 *
 * Fernet lets the caller choose the 16-byte IV, and the IV travels in clear at a fixed place in the
 * token. The bench puts its accounting fields there:
 *   IV = sender index (u32 BE) | sequence number (u32 BE) | scheduled send time (u64 BE, microseconds)
 * so the IV is unique per message but not random. That is fine for a load test (the texts are not
 * secret) and it is what lets a receiver account for a million deliveries a second: the fields sit
 * in characters 16..47 of the `message` string (raw token bytes 9..24 -> token characters 12..35 ->
 * payload characters 16..47), recovered with two tiny base64 decodes and no AES, HMAC or JSON.parse.
 * Integrity is still checked: a sample of deliveries (all of them with --verify) is fully parsed
 * and decrypted, and its text compared with what the sender sealed.
 */
import type { Fernet } from '../protocol/index.ts';

export interface PayloadFields {
  sender: number;
  seq: number;
  scheduledMicros: number;
}

/** Where the IV's characters sit in the payload string, and how many there are. */
export const IV_CHARS_OFFSET = 16;
export const IV_CHARS_LENGTH = 32;
/** Every v1 payload of a token stamped before 2106 starts so: base64("gAAAAA"). */
export const PAYLOAD_PREFIX = 'Z0FBQUFB';

const FERNET_OVERHEAD_BYTES = 1 + 8 + 16 + 32;

/** The length of the payload string for a plaintext of `size` bytes (fixed, so receivers can check it). */
export function payloadLength(size: number): number {
  const raw = FERNET_OVERHEAD_BYTES + (Math.floor(size / 16) + 1) * 16;
  const token = Math.ceil(raw / 3) * 4;
  return Math.ceil(token / 3) * 4;
}

/**
 * The scheduled time as the IV carries it: whole microseconds. A sender must judge whether its
 * message falls in the measurement window by THIS value, the one its receivers read back; judged by
 * the unrounded time, a message within half a microsecond of a window edge would be counted as
 * published by the sender and as outside the window by every receiver, i.e. as lost.
 */
export function carriedMicros(micros: number): number {
  return Math.max(0, Math.round(micros));
}

export function encodeIv(fields: PayloadFields): Buffer {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(fields.sender >>> 0, 0);
  iv.writeUInt32BE(fields.seq >>> 0, 4);
  const micros = carriedMicros(fields.scheduledMicros);
  iv.writeUInt32BE(Math.floor(micros / 2 ** 32), 8);
  iv.writeUInt32BE(micros % 2 ** 32, 12);
  return iv;
}

/**
 * The plaintext a sender seals: `size` bytes of ASCII naming sender and sequence, so a full
 * decryption can check that the text (not only the IV) arrived intact.
 */
export function plaintextFor(sender: number, seq: number, size: number): Buffer {
  const head = `ecp-bench s=${sender} n=${seq} `;
  const text = Buffer.alloc(size, 0x2e); // '.'
  text.write(head.slice(0, size), 0, 'ascii');
  return text;
}

/** A real v1 sealed payload (what `sealText` makes) with the accounting fields in its IV. */
export function sealPayload(room: Fernet, fields: PayloadFields, size: number): string {
  const token = room.encrypt(plaintextFor(fields.sender, fields.seq, size), { iv: encodeIv(fields) });
  return Buffer.from(token, 'ascii').toString('base64');
}

/** Standard and URL-safe base64 share one table: their extra characters do not collide. */
const BASE64_VALUES = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  table[0x2d] = 62; // '-'
  table[0x5f] = 63; // '_'
  return table;
})();

const tokenChars = new Uint8Array(24);
const ivBytes = new Uint8Array(18);

/** Decodes `count` base64 characters (a multiple of 4) from `source` into `target`; false if one is not base64. */
function decodeQuads(source: Uint8Array, start: number, count: number, target: Uint8Array): boolean {
  let out = 0;
  for (let i = start; i < start + count; i += 4) {
    const a = BASE64_VALUES[source[i]!]!;
    const b = BASE64_VALUES[source[i + 1]!]!;
    const c = BASE64_VALUES[source[i + 2]!]!;
    const d = BASE64_VALUES[source[i + 3]!]!;
    if ((a | b | c | d) < 0) return false;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    target[out++] = bits >>> 16;
    target[out++] = (bits >>> 8) & 0xff;
    target[out++] = bits & 0xff;
  }
  return true;
}

/**
 * Reads the accounting fields from the payload whose first character is at `start` in `bytes`
 * (ASCII), into `into`. False when those characters are not base64 (not a bench payload).
 */
export function readPayloadFields(bytes: Uint8Array, start: number, into: PayloadFields): boolean {
  if (!decodeQuads(bytes, start + IV_CHARS_OFFSET, IV_CHARS_LENGTH, tokenChars)) return false;
  if (!decodeQuads(tokenChars, 0, 24, ivBytes)) return false;
  // ivBytes[0..15] is the IV (raw token bytes 9..24).
  const v = ivBytes;
  into.sender = ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0;
  into.seq = ((v[4]! << 24) | (v[5]! << 16) | (v[6]! << 8) | v[7]!) >>> 0;
  const high = ((v[8]! << 24) | (v[9]! << 16) | (v[10]! << 8) | v[11]!) >>> 0;
  const low = ((v[12]! << 24) | (v[13]! << 16) | (v[14]! << 8) | v[15]!) >>> 0;
  into.scheduledMicros = high * 2 ** 32 + low;
  return true;
}
