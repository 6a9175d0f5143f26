import { describe, expect, it } from 'vitest';
import { DeliveryScanner } from '../../bench/delivery-scanner.ts';
import { payloadLength, sealPayload } from '../../bench/payload.ts';
import { Fernet } from '../../protocol/index.ts';

const room = new Fernet(Fernet.generateKey());
const size = 32;
const payload = (sender: number, seq: number) =>
  sealPayload(room, { sender, seq, scheduledMicros: 1000 + seq }, size);

function scanAll(chunks: Buffer[]) {
  const scanner = new DeliveryScanner(payloadLength(size));
  const deliveries: string[] = [];
  const others: string[] = [];
  for (const chunk of chunks) {
    scanner.push(chunk, {
      delivery: (f, line, start, end) => {
        deliveries.push(`${f.sender}/${f.seq}/${f.scheduledMicros}`);
        expect(line.toString('utf8', start, end)).toContain(`"message`);
      },
      other: (line, start, end) => others.push(line.toString('utf8', start, end)),
    });
  }
  return { deliveries, others, scanner };
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
    const scanner = new DeliveryScanner(payloadLength(size), 100);
    const seen: string[] = [];
    const sink = {
      delivery: () => seen.push('delivery'),
      other: (line: Buffer, start: number, end: number) => seen.push(line.toString('utf8', start, end)),
    };
    scanner.push(Buffer.from(`{"a":"${'x'.repeat(80)}`), sink);
    scanner.push(Buffer.from(`${'y'.repeat(80)}"}\n{"b":1}\n`), sink);
    expect(seen).toEqual(['{"b":1}']);
    expect(scanner.overlongLines).toBe(1);
  });
});
