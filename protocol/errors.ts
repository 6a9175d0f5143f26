/**
 * The error taxonomy of the ECP library. Every error carries a stable `code` that callers
 * switch on; messages are for people and may change. All codes are listed here, in one place.
 */

export type FramingErrorCode =
  /** A line (or WebSocket message) exceeded the limit; on a byte stream the rest of it up to the next newline is discarded. */
  | 'ECP_LINE_TOO_LONG'
  /** A line was not valid UTF-8. */
  | 'ECP_INVALID_UTF8'
  /** The stream ended in the middle of a line: bytes after the last line feed (reported only when asked for). */
  | 'ECP_UNTERMINATED_LINE'
  /** A WebSocket binary frame: ECP messages travel in text frames. */
  | 'ECP_BINARY_FRAME'
  /** A WebSocket text frame held more than one line (a line feed before its end). */
  | 'ECP_SEVERAL_MESSAGES'
  /** The peer speaks another transport on this port (a TLS handshake or an HTTP request on plain ECP, ...). */
  | 'ECP_WRONG_TRANSPORT';

export type MessageErrorCode =
  /** The line is not JSON. */
  | 'ECP_INVALID_JSON'
  /** The JSON value is not an object. */
  | 'ECP_NOT_AN_OBJECT'
  /** `type` is a string but not a type this direction knows. `field` is 'type'. */
  | 'ECP_UNKNOWN_TYPE'
  /** A required field (`type` included) is absent. `field` names it. */
  | 'ECP_MISSING_FIELD'
  /** A field (`type` included) has the wrong JSON type. `field` names it. */
  | 'ECP_WRONG_FIELD_TYPE';

export type CryptoErrorCode =
  /** A Fernet token is malformed, fails its HMAC, or lies too far in the future. */
  | 'ECP_INVALID_TOKEN'
  /** A Fernet token is older than the TTL the caller asked for. */
  | 'ECP_TOKEN_EXPIRED'
  /** A key cannot be parsed, is not RSA, or is not a valid Fernet key. */
  | 'ECP_INVALID_KEY'
  /** An RSA key is smaller than the required modulus size. */
  | 'ECP_WEAK_KEY'
  /** RSA-OAEP decryption failed (wrong key, corrupt ciphertext or bad padding). */
  | 'ECP_DECRYPT_FAILED';

export type EcpErrorCode = FramingErrorCode | MessageErrorCode | CryptoErrorCode;

export class EcpError extends Error {
  readonly code: EcpErrorCode;
  constructor(code: EcpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Errors from turning bytes into lines. `bytes` holds the offending line where there is one. */
export class FramingError extends EcpError {
  declare readonly code: FramingErrorCode;
  override readonly name = 'FramingError';
  readonly bytes: Buffer | undefined;
  constructor(code: FramingErrorCode, message: string, options?: { cause?: unknown; bytes?: Buffer }) {
    super(code, message, options);
    this.bytes = options?.bytes;
  }
}

/** Errors from turning a line into a typed message. `field` names the offending field, if any. */
export class MessageError extends EcpError {
  declare readonly code: MessageErrorCode;
  override readonly name = 'MessageError';
  readonly field: string | undefined;
  constructor(code: MessageErrorCode, message: string, field?: string) {
    super(code, message);
    this.field = field;
  }
}

/** Errors from Fernet, RSA and the v1 key and payload encodings. */
export class CryptoError extends EcpError {
  declare readonly code: CryptoErrorCode;
  override readonly name = 'CryptoError';
}
