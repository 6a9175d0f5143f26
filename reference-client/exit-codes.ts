/**
 * Exit statuses of `ecp client`, in both modes. Scripts rely on them; keep them stable.
 */
import { type ClientError, isAuthenticationError } from './errors.ts';

export const ExitCode = {
  /** Interactive: the user quit. JSON: stdin ended and the server echoed every line sent. */
  ok: 0,
  /** The server refused us: wrong password, taken name, invalid username, server full (any auth_error). */
  authenticationFailed: 1,
  /** Bad command-line arguments, or a required value (username, password) missing with no way to prompt. */
  badArguments: 2,
  /** Could not connect, timed out, the connection was lost or closed by the server, or the room key was unusable. */
  connectionLost: 3,
  /** The user cancelled at a prompt (Ctrl-C). */
  cancelled: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit status for a session that ended with `error` (or that the server ended without one). */
export function exitCodeFor(error: ClientError | undefined): ExitCode {
  return isAuthenticationError(error) ? ExitCode.authenticationFailed : ExitCode.connectionLost;
}
