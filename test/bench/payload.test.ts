import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inWindow } from '../../bench/delivery-ledger.ts';
import {
  carriedMicros,
  encodeIv,
  PAYLOAD_PREFIX,
  type PayloadFields,
  payloadLength,
  plaintextFor,
  readPayloadFields,
  sealPayload,
} from '../../bench/payload.ts';
import { Fernet, openText } from '../../protocol/index.ts';

const room = new Fernet(Fernet.generateKey());

describe('bench payloads', () => {
  it('are real v1 sealed texts: openText gives back the plaintext, of exactly --size bytes', () => {
    const payload = sealPayload(room, { sender: 3, seq: 41, scheduledMicros: 123_456_789 }, 128);
    const text = openText(room, payload);
    expect(text).toBe(plaintextFor(3, 41, 128).toString('ascii'));
    expect(Buffer.byteLength(text)).toBe(128);
    expect(text.startsWith('ecp-bench s=3 n=41 ')).toBe(true);
  });

  it('carry the accounting fields in the Fernet IV', () => {
    const fields = { sender: 7, seq: 99, scheduledMicros: 2 ** 40 + 12345 };
    const payload = sealPayload(room, fields, 64);
    const token = Buffer.from(Buffer.from(payload, 'base64').toString('ascii'), 'base64url');
    expect(token.subarray(9, 25)).toEqual(encodeIv(fields));
  });

  it('are read back from the payload characters alone, for any fields and size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 600 }),
        (sender, seq, scheduledMicros, size) => {
          const payload = sealPayload(room, { sender, seq, scheduledMicros }, size);
          expect(payload.length).toBe(payloadLength(size));
          expect(payload.startsWith(PAYLOAD_PREFIX)).toBe(true);
          const line = Buffer.from(`xx${payload}yy`, 'ascii');
          const read: PayloadFields = { sender: -1, seq: -1, scheduledMicros: -1 };
          expect(readPayloadFields(line, 2, read)).toBe(true);
          expect(read).toEqual({ sender, seq, scheduledMicros });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('let sender and receivers judge window membership alike, even within a microsecond of an edge', () => {
    // A sender counts a message as published by the time it seals; its receivers count it as
    // expected by the time they read back. Judged on different values, an edge message is "lost".
    fc.assert(
      fc.property(
        fc.double({ min: 1e6, max: 1e12, noNaN: true }),
        fc.double({ min: -2, max: 2, noNaN: true }),
        (windowStart, offset) => {
          const window = { startMicros: windowStart, endMicros: windowStart + 1e6 };
          for (const edge of [window.startMicros, window.endMicros]) {
            const scheduled = edge + offset;
            const payload = sealPayload(room, { sender: 0, seq: 0, scheduledMicros: scheduled }, 16);
            const read: PayloadFields = { sender: -1, seq: -1, scheduledMicros: -1 };
            readPayloadFields(Buffer.from(payload, 'ascii'), 0, read);
            expect(read.scheduledMicros).toBe(carriedMicros(scheduled));
            expect(inWindow(window, read.scheduledMicros)).toBe(inWindow(window, carriedMicros(scheduled)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuse characters that are not base64', () => {
    const payload = sealPayload(room, { sender: 1, seq: 2, scheduledMicros: 3 }, 16);
    const broken = Buffer.from(payload, 'ascii');
    broken[20] = 0x2e; // '.'
    expect(readPayloadFields(broken, 0, { sender: 0, seq: 0, scheduledMicros: 0 })).toBe(false);
  });

  it('have the length the receivers check', () => {
    // 128 bytes -> 144 of ciphertext -> 201-byte token -> 268 characters -> 360 of base64.
    expect(payloadLength(128)).toBe(360);
    expect(sealPayload(room, { sender: 0, seq: 0, scheduledMicros: 0 }, 128)).toHaveLength(360);
  });
});
