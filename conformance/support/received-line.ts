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
  /** The turn of the kit's event loop it arrived in (event-loop-turn.ts): exact across clients. */
  turn: number;
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

/**
 * The `type` of any line that is a JSON object, a valid v1 message or not. Checks that something
 * never arrives match on this, so that a malformed line (a relayed chat whose `sender` is null, a
 * `user_list` with a stray field) cannot slip past them.
 */
export function jsonTypeOf(line: ReceivedLine): string | undefined {
  const json = line.json as { type?: unknown } | null | undefined;
  return typeof json === 'object' && json !== null && typeof json.type === 'string' ? json.type : undefined;
}

/** A field of a line that is a JSON object, whatever else the line holds. */
export function jsonFieldOf(line: ReceivedLine, field: string): unknown {
  const json = line.json as Record<string, unknown> | null | undefined;
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? json[field] : undefined;
}

/**
 * What any line of type `message` carries, read leniently for checks that something never
 * arrives: the text it decrypts to under the client's key, or else its `message` string as sent.
 */
export function carriedTextOf(line: ReceivedLine): string | undefined {
  if (jsonTypeOf(line) !== 'message') return undefined;
  if (line.decrypted !== undefined) return line.decrypted;
  const message = jsonFieldOf(line, 'message');
  return typeof message === 'string' ? message : undefined;
}

/** Any line of type `user_list` whose `users` array holds `name`, valid v1 message or not. */
export function listsUser(line: ReceivedLine, name: string): boolean {
  const users = jsonFieldOf(line, 'users');
  return jsonTypeOf(line) === 'user_list' && Array.isArray(users) && users.includes(name);
}

/** Any line of type `system` whose `message` is `text`, valid v1 message or not. */
export function isNotice(line: ReceivedLine, text: string): boolean {
  return jsonTypeOf(line) === 'system' && jsonFieldOf(line, 'message') === text;
}
