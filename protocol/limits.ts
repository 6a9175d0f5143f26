import { DEFAULT_MAX_LINE_BYTES } from './line-decoder.ts';

/** The limits docs/protocol.md recommends; servers expose each as an option. */
export interface Limits {
  /** Longest accepted line in bytes, without its newline. */
  maxLineBytes: number;
  /** Time a connection has to complete a handshake. */
  handshakeTimeoutMs: number;
  /** Unsent output a server holds for one client before disconnecting it as a slow reader (the cap). */
  maxPendingOutputBytes: number;
  /**
   * How long a client's unsent output may go without draining at all before the client is
   * disconnected as a slow reader (the write deadline). Meanwhile the room waits for it.
   */
  slowReaderTimeoutMs: number;
  /** Open connections a server accepts at once. */
  maxConnections: number;
  /** Longest username in characters (code points). */
  maxUsernameLength: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  handshakeTimeoutMs: 10_000,
  maxPendingOutputBytes: 8 * 1024 * 1024,
  slowReaderTimeoutMs: 5_000,
  maxConnections: 10_000,
  maxUsernameLength: 32,
});

// docs/protocol.md ECP-AUTH-06: refused only for control characters (general category Cc); every
// other character, spaces and format characters such as emoji joiners included, is allowed.
const CONTROL_CHARACTER = /\p{Cc}/u;

/** Whether a username follows v1's rule: 1 to `maxLength` characters (code points), none of them a control character. */
export function isValidUsername(username: string, maxLength = DEFAULT_LIMITS.maxUsernameLength): boolean {
  if (username.length === 0 || CONTROL_CHARACTER.test(username)) return false;
  // Code points, not UTF-16 units; the cheap upper bound avoids counting long strings.
  if (username.length > maxLength * 2) return false;
  let count = 0;
  for (const _ of username) count++;
  return count <= maxLength;
}
