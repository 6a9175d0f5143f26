/**
 * The reference client's error taxonomy. Callers switch on `code`; messages are for people and may
 * change. Every code the client produces is listed here, in one place.
 */

export type ClientErrorCode =
  /** The server refused the handshake with an `auth_error` (wrong password, invalid username, server full...). */
  | 'ECP_AUTH_FAILED'
  /** The server answered the handshake with the v1 `Username already taken` notice. */
  | 'ECP_USERNAME_TAKEN'
  /** A `key_exchange` could not be decrypted with our private key, or the server could not use our key. */
  | 'ECP_INVALID_KEY'
  /** Joining (connect, handshake, key exchange, user list) or a bounded wait took too long. */
  | 'ECP_TIMEOUT'
  /** The server sent something that breaks the protocol (not JSON, unknown type, missing field...). */
  | 'ECP_PROTOCOL_ERROR'
  /** The TCP connection could not be opened. */
  | 'ECP_CONNECTION_FAILED'
  /** The connection closed without the client asking for it. */
  | 'ECP_CONNECTION_LOST'
  /** `send` was called before the client joined or after it closed. */
  | 'ECP_NOT_JOINED';

export interface ClientErrorOptions {
  cause?: unknown;
  /**
   * For ECP_PROTOCOL_ERROR and ECP_INVALID_KEY: the lower-level code from `protocol/`
   * (e.g. ECP_INVALID_JSON, ECP_UNKNOWN_TYPE, ECP_LINE_TOO_LONG, ECP_DECRYPT_FAILED).
   */
  detail?: string;
  /** For ECP_AUTH_FAILED and ECP_USERNAME_TAKEN: the server's own words. */
  serverMessage?: string;
}

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  readonly detail: string | undefined;
  readonly serverMessage: string | undefined;

  constructor(code: ClientErrorCode, message: string, options: ClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
    this.serverMessage = options.serverMessage;
  }
}

/** Whether an error means the server refused us (as opposed to a network or protocol failure). */
export function isAuthenticationError(error: unknown): boolean {
  return (
    error instanceof ClientError && (error.code === 'ECP_AUTH_FAILED' || error.code === 'ECP_USERNAME_TAKEN')
  );
}
