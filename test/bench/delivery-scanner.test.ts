import { describe, expect, it } from 'vitest';
import { DeliveryScanner } from '../../bench/delivery-scanner.ts';
import { payloadLength, sealPayload } from '../../bench/payload.ts';
import { Fernet, LineDecoder } from '../../protocol/index.ts';

const room = new Fernet(Fernet.generateKey());
const size = 32;
const payload = (sender: number, seq: number) =>
  sealPayload(room, { sender, seq, scheduledMicros: 1000 + seq }, size);

/** The bench client's path: the byte stream's lines, in place, then the scanner on each. */
function scanAll(chunks: Buffer[], maxLineBytes = 1024 * 1024) {
  const scanner = new DeliveryScanner(payloadLength(size));
  const lines = new LineDecoder({ maxLineBytes });
  const deliveries: string[] = [];
  const others: string[] = [];
  let overlong = 0;
  const sink = {
    delivery: (
      f: { sender: number; seq: number; scheduledMicros: number },
      line: Buffer,
      start: number,
      end: number,
    ) => {
      deliveries.push(`${f.sender}/${f.seq}/${f.scheduledMicros}`);
      expect(line.toString('utf8', start, end)).toContain(`"message`);
    },
    other: (line: Buffer, start: number, end: number) => others.push(line.toString('utf8', start, end)),
  };
  for (const chunk of chunks) {
    lines.scan(chunk, {
      line: (bytes, start, end) => scanner.scan(bytes, start, end, sink),
      error: () => overlong++,
    });
  }
  return { deliveries, others, overlong };
}

const compact = (s: number, q: number) =>
  `{"type":"message","sender":"u${s}","message":"${payload(s, q)}","encrypted":true}\n`;
// The prototype's separators, with a CRLF for good measure.
const python = (s: number, q: number) =>
  `{"type": "message", "sender": "u${s}", "message": "${payload(s, q)}", "encrypted": true}\r\n`;

describe('DeliveryScanner', () => {
  const stream = [
    '{"type":"system","message":"Welcome u0! Establishing secure connection..."}\n',
    compact(0, 0),
    '\n',
    '{"type":"user_list","users":["u0","u1"]}\n',
    python(1, 0),
    compact(0, 1),
    '{"type":"message","sender":"u9","message":"hello in plain text","encrypted":false}\n',
    '{"message":"Z0FBQUFB but too short","type":"system"}\n',
  ].join('');
  const expectedDeliveries = ['0/0/1000', '1/0/1000', '0/1/1001'];

  it('finds bench deliveries in either JSON style and passes every other line on', () => {
    const { deliveries, others } = scanAll([Buffer.from(stream)]);
    expect(deliveries).toEqual(expectedDeliveries);
    expect(others).toHaveLength(4);
    expect(others[2]).toContain('hello in plain text');
  });

  it('gives the same answer however the stream is split', () => {
    const bytes = Buffer.from(stream);
    for (let cut = 1; cut < bytes.length; cut += 7) {
      const { deliveries, others } = scanAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(deliveries).toEqual(expectedDeliveries);
      expect(others).toHaveLength(4);
    }
    const bytewise = scanAll([...bytes].map((b) => Buffer.from([b])));
    expect(bytewise.deliveries).toEqual(expectedDeliveries);
  });

  it('drops a line longer than its limit and recovers at the next newline', () => {
    const { others, overlong } = scanAll(
      [Buffer.from(`{"a":"${'x'.repeat(80)}`), Buffer.from(`${'y'.repeat(80)}"}\n{"b":1}\n`)],
      100,
    );
    expect(others).toEqual(['{"b":1}']);
    expect(overlong).toBe(1);
  });

  it('finds a delivery in a message handed over whole (a WebSocket frame)', () => {
    const scanner = new DeliveryScanner(payloadLength(size));
    const frame = Buffer.from(compact(3, 7).trimEnd());
    const found: number[] = [];
    scanner.scan(frame, 0, frame.length, { delivery: (f) => found.push(f.sender, f.seq), other: () => {} });
    expect(found).toEqual([3, 7]);
  });
});
