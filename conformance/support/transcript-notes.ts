/**
 * What a test client writes beside the lines of its transcript: passwords redacted (saying whether
 * it was the right one), the text inside a sealed chat message, how the connection ended.
 */
import { type Fernet, openText } from '../../protocol/index.ts';
import type { CloseInfo } from '../../transport/index.ts';
import { quoteShort } from './wire-log.ts';

/** Passwords never appear in transcripts; the note says whether it was the right one. */
export function redactPasswords(text: string, serverPassword: string): string {
  return text.replace(
    /("server_password"\s*:\s*)("(?:[^"\\]|\\.)*")/g,
    (_all, key: string, value: string) => {
      let password: unknown;
      try {
        password = JSON.parse(value);
      } catch {
        password = undefined;
      }
      const which = password === serverPassword ? 'the server password' : 'a wrong password';
      return `${key}"<redacted: ${which}>"`;
    },
  );
}

/** For a sealed chat message a client sends: the text inside, when the room key opens it. */
export function sealedTextNote(text: string, roomKey: Fernet | undefined): string | undefined {
  if (!roomKey) return undefined;
  try {
    const value = JSON.parse(text) as { type?: unknown; message?: unknown; encrypted?: unknown };
    if (value.type === 'message' && value.encrypted === true && typeof value.message === 'string') {
      return `encrypted text: ${quoteShort(openText(roomKey, value.message))}`;
    }
  } catch {
    // Not a sealed chat message: nothing to add.
  }
  return undefined;
}

/** How a connection ended, for the transcript: a WebSocket close code, or the socket's error. */
export function describeClose(info: CloseInfo): string {
  if (info.closeCode !== undefined) {
    return `the connection closed (WebSocket close code ${info.closeCode}${info.closeReason ? `: ${info.closeReason}` : ''})`;
  }
  if (info.error !== undefined) return `connection error ${info.error.code ?? info.error.message}`;
  return 'the connection closed';
}
