/**
 * The server's fast path for WebSocket: a broadcast line becomes ONE complete text frame, made once
 * and shared by every recipient (server frames are not masked, so every recipient's frame is the
 * same bytes), so a batch of frames can leave in one write, as a byte stream's lines do.
 */
import * as wsModule from 'ws';
import { stripNewline } from './websocket-mapping.ts';

/** ws's own framer (exported by ws as `Sender`, which its type definitions do not describe). */
const frameOf = (
  wsModule as unknown as {
    Sender: {
      frame(
        data: Buffer,
        options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean },
      ): Buffer[];
    };
  }
).Sender.frame;

const sharedFrames = new WeakMap<Buffer, Buffer>();

/** The unmasked text frame carrying `line` (without its line feed), cached for as long as `line` lives. */
export function textFrame(line: Buffer): Buffer {
  let frame = sharedFrames.get(line);
  if (frame === undefined) {
    const parts = frameOf(stripNewline(line) as Buffer, {
      fin: true,
      opcode: 1,
      mask: false,
      readOnly: true,
      rsv1: false,
    });
    frame = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    sharedFrames.set(line, frame);
  }
  return frame;
}
