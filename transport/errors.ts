/**
 * What can go wrong below ECP: naming, reaching and securing a connection. Callers switch on
 * `code`; messages are for people (they say what to try) and may change. Every code is here.
 */
export type TransportErrorCode =
  /** The endpoint text is not a URL this kit understands (scheme, host, port, path). */
  | 'ECP_BAD_ENDPOINT'
  /** Nothing accepted the connection (refused, unreachable, no such host). */
  | 'ECP_CONNECT_FAILED'
  /** The connection (TLS handshake or WebSocket upgrade included) was not established in time. */
  | 'ECP_CONNECT_TIMEOUT'
  /** The TLS handshake failed: an untrusted, expired or mismatched certificate, or no TLS on that port. */
  | 'ECP_TLS_FAILED'
  /** The WebSocket upgrade was refused (an HTTP status instead of 101) or broke the protocol. */
  | 'ECP_UPGRADE_FAILED'
  /** Listening failed (address in use, missing certificate, ...). */
  | 'ECP_LISTEN_FAILED'
  /** The connection's transport does not offer a capability asked of it (raw access, fast receive). */
  | 'ECP_UNSUPPORTED';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** TLS errors that mean the certificate is not trusted, with what to try. */
const CERTIFICATE_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain ends in an untrusted self-signed CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of the server certificate is not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
};

/**
 * The TransportError for a failed connect to `where` (a URL), from the socket's error: refused
 * and unreachable hosts, untrusted certificates (with the options that fix it), and a port that
 * does not speak TLS.
 */
export function connectFailure(where: string, cause: Error & { code?: string }): TransportError {
  const code = cause.code ?? '';
  const certificate = CERTIFICATE_PROBLEMS[code];
  if (certificate !== undefined) {
    return new TransportError(
      'ECP_TLS_FAILED',
      `TLS to ${where} failed: ${certificate} (${code}); trust its CA with --ca FILE, or skip verification with --insecure`,
      { cause },
    );
  }
  if (/WRONG_VERSION_NUMBER|UNKNOWN_PROTOCOL|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE/.test(code)) {
    return new TransportError(
      'ECP_TLS_FAILED',
      `TLS to ${where} failed: the server does not speak TLS on that port (${code}); is it a tcp:// or ws:// port?`,
      { cause },
    );
  }
  if (code === 'ECONNRESET' && /TLS|secure/i.test(cause.message)) {
    return new TransportError(
      'ECP_TLS_FAILED',
      `TLS to ${where} failed: the server closed the connection during the TLS handshake; is it a tls:// port?`,
      { cause },
    );
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    return new TransportError('ECP_TLS_FAILED', `TLS to ${where} failed: ${cause.message}`, { cause });
  }
  return new TransportError('ECP_CONNECT_FAILED', `cannot connect to ${where}: ${code || cause.message}`, {
    cause,
  });
}
