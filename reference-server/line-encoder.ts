/**
 * How this server writes its lines: compact JSON, ASCII only (protocol's encoders escape every
 * non-ASCII character as \uXXXX, as the prototype does; docs/protocol.md section 2). Pure ASCII
 * also lets each Buffer be made with the cheap latin1 path.
 */
import { encodeMessage, type ServerMessage, stringifyAscii } from '../protocol/index.ts';

/** One server message as an encoded line, ready to be shared by every recipient. */
export function encodeLine(message: ServerMessage): Buffer {
  return Buffer.from(encodeMessage(message), 'latin1');
}

/** The part of a relayed chat line that depends only on the sender; computed once per member. */
export function chatPrefix(sender: string): string {
  return `{"type":"message","sender":${stringifyAscii(sender)},"message":`;
}

const ENCRYPTED_TAIL = ',"encrypted":true}\n';
const PLAIN_TAIL = ',"encrypted":false}\n';

/** A relayed chat line: the same fields and order as encodeMessage, with the payload verbatim. */
export function encodeChatLine(prefix: string, message: string, encrypted: boolean): Buffer {
  return Buffer.from(prefix + stringifyAscii(message) + (encrypted ? ENCRYPTED_TAIL : PLAIN_TAIL), 'latin1');
}
