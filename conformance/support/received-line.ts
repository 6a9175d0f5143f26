/**
 * One line a test client received, and what it is: JSON or not, a valid v1 server message or why
 * not. Read strictly, so scenarios can see exactly what the server sent.
 */
import { parseServerMessage, type ServerMessage } from '../../protocol/index.ts';

export interface ReceivedLine {
  /** Position among every line received by every client of the scenario, to compare order across clients. */
  order: number;
  /** Position among this client's lines. */
  index: number;
  atMs: number;
  /** The line as text (with U+FFFD where it was not valid UTF-8), without its line feed. */
  text: string;
  validUtf8: boolean;
  /** False for a last line the server never ended with a line feed before closing. */
  terminated: boolean;
  /** The parsed JSON value, when the line is JSON. */
  json?: unknown;
  /** The typed message, when the line is a valid v1 server message. */
  message?: ServerMessage;
  /** Why the line is not a valid v1 server message. */
  problem?: string;
  /** For an encrypted chat payload this client could open: the text. */
  decrypted?: string;
}

export type LineMatch = (line: ReceivedLine) => boolean;

/** Sets the line's `json` and `message`, or the `problem` that keeps it from being a v1 message. */
export function classifyLine(line: ReceivedLine): void {
  if (line.text.trim() === '') {
    line.problem = 'blank line';
    return;
  }
  try {
    line.json = JSON.parse(line.text) as unknown;
  } catch {
    line.problem = 'not JSON';
    return;
  }
  const parsed = parseServerMessage(line.text);
  if (parsed.ok) line.message = parsed.message;
  else line.problem = parsed.error.message;
}

/** The text of a received chat line: decrypted when encrypted, as sent when plain. */
export function chatTextOf(line: ReceivedLine): string | undefined {
  if (line.message?.type !== 'message') return undefined;
  return line.message.encrypted ? line.decrypted : line.message.message;
}
