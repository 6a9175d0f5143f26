/**
 * What encoding one relayed chat line costs the server, the way `Room.relay` does it
 * (`encodeChatLine`: the sender's prefix, the payload as ASCII JSON, the tail, one latin1 Buffer),
 * side by side with the encoding it replaced (JSON.stringify, then a scan for non-ASCII), on
 * payloads like the bench's: standard base64 of a Fernet token. The two alternate in one process,
 * several rounds, and the report gives each one's median nanoseconds per line and the ratio.
 *
 *   npx tsx bench/scripts/encode-line.ts [--rounds 7] [--lines 1000000]
 */
import { median } from 'simple-statistics';
import { Fernet, stringifyAscii } from '../../protocol/index.ts';
import { chatPrefix, encodeChatLine } from '../../reference-server/line-encoder.ts';
import { finish, scriptOptions } from './harness.ts';

const options = scriptOptions(import.meta.filename, 'The cost of encoding one relayed chat line.', {
  rounds: { type: 'number', default: 7, min: 1, whole: true, describe: 'Rounds of each encoding (median)' },
  lines: { type: 'number', default: 1_000_000, min: 1000, whole: true, describe: 'Lines per round' },
});

const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_ALL = /[^\x00-\x7f]/g;
const escapeCodeUnit = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
/** The encoding before, as it was: JSON.stringify, then the scan for non-ASCII characters. */
function encodeBefore(prefix: string, message: string, encrypted: boolean): Buffer {
  const json = JSON.stringify(message);
  const ascii = NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, escapeCodeUnit) : json;
  return Buffer.from(
    prefix + ascii + (encrypted ? ',"encrypted":true}\n' : ',"encrypted":false}\n'),
    'latin1',
  );
}

const fernet = new Fernet(Fernet.generateKey());
// Eight distinct payloads (128-byte texts, as the bench sends), so no result can be cached.
const payloads = Array.from({ length: 8 }, (_, i) =>
  Buffer.from(fernet.encrypt(Buffer.alloc(128, 65 + i))).toString('base64'),
);
const prefix = chatPrefix('bench-042');
for (const payload of payloads) {
  if (!encodeChatLine(prefix, payload, true).equals(encodeBefore(prefix, payload, true))) {
    throw new Error('the two encodings differ');
  }
}
if (stringifyAscii(payloads[0]) !== JSON.stringify(payloads[0])) throw new Error('stringifyAscii differs');

function nanosPerLine(encode: (prefix: string, message: string, encrypted: boolean) => Buffer): number {
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < options.lines; i++) bytes += encode(prefix, payloads[i & 7]!, true).length;
  const elapsed = Number(process.hrtime.bigint() - start);
  if (bytes === 0) throw new Error('nothing encoded');
  return elapsed / options.lines;
}

const now: number[] = [];
const before: number[] = [];
for (let round = 0; round < options.rounds; round++) {
  before.push(nanosPerLine(encodeBefore));
  now.push(nanosPerLine(encodeChatLine));
}
const report = {
  lines: options.lines,
  rounds: options.rounds,
  beforeNsPerLine: Math.round(median(before)),
  nowNsPerLine: Math.round(median(now)),
  ratio: Number((median(now) / median(before)).toFixed(2)),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
await finish();
