import { DEFAULT_MAX_LINE_BYTES } from './line-decoder.ts';

/** The limits docs/protocol.md recommends; servers expose each as an option. */
export interface Limits {
  /** Longest accepted line in bytes, without its newline. */
  maxLineBytes: number;
  /** Time a connection has to complete a handshake. */
  handshakeTimeoutMs: number;
  /** Unsent output a server holds for one client before disconnecting it as a slow reader. */
  maxPendingOutputBytes: number;
  /** Open connections a server accepts at once. */
  maxConnections: number;
  /** Longest username in characters (code points). */
  maxUsernameLength: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  handshakeTimeoutMs: 10_000,
  maxPendingOutputBytes: 8 * 1024 * 1024,
  maxConnections: 10_000,
  maxUsernameLength: 32,
});

// Unicode "Other" categories: control, format, unassigned, private use, surrogates; and the line
// and paragraph separators, which would break a name across lines. Spaces (Zs) are allowed.
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/u;

/** Whether a username follows v1's rules: 1 to `maxLength` printable characters. */
export function isValidUsername(username: string, maxLength = DEFAULT_LIMITS.maxUsernameLength): boolean {
  const length = [...username].length;
  return length >= 1 && length <= maxLength && !UNPRINTABLE.test(username);
}
