/**
 * ECP over TLS: the same lines, inside TLS 1.2 or later. The listener looks at each connection's
 * first bytes before starting TLS, so a plain ECP client on this port gets an auth_error it can
 * read, and an HTTP client a 400, instead of a TLS failure it cannot explain.
 */
import { type AddressInfo, createServer, type Socket } from 'node:net';
import {
  createSecureContext,
  DEFAULT_CIPHERS,
  type SecureContext,
  TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/index.ts';
import { ByteStreamConnection } from './byte-stream.ts';
import { connectAttempt } from './connect-attempt.ts';
import type { Connection, ConnectOptions, Listener, ListenOptions } from './connection.ts';
import { type Endpoint, formatEndpoint, formatHostPort } from './endpoint.ts';
import { connectFailure, TransportError } from './errors.ts';
import { closeServer, listenOn } from './listening.ts';
import { looksLikeTlsHandshake, wrongTransportAnswer } from './sniff.ts';

export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * The server's cipher preference: TLS 1.3 with AES-128-GCM first. OpenSSL's default order puts
 * AES-256-GCM first, which costs a broadcast server more CPU per byte (every member's copy is
 * encrypted on its own) for no protection v1 needs: the payloads inside are AES-128 (Fernet)
 * anyway. TLS 1.2 keeps Node's defaults, in their order.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  ...DEFAULT_CIPHERS.split(':').filter((suite) => !suite.startsWith('TLS_')),
].join(':');

/** Options for node:tls shared by TLS clients of every transport (tls://, wss://). */
export function tlsClientOptions(endpoint: Endpoint, options: ConnectOptions) {
  return {
    ca: options.ca,
    rejectUnauthorized: !options.insecure,
    minVersion: TLS_MIN_VERSION,
    // SNI takes a host name only, never an IP address.
    servername: /^[\d.]+$|:/.test(endpoint.host) ? undefined : endpoint.host,
  } as const;
}

export function connectTls(endpoint: Endpoint, options: ConnectOptions = {}): Promise<Connection> {
  const where = formatEndpoint(endpoint);
  return connectAttempt<Connection>(where, options, (attempt) => {
    const socket = tlsConnect({
      host: endpoint.host,
      port: endpoint.port,
      ...tlsClientOptions(endpoint, options),
    });
    socket.once('secureConnect', () => {
      socket.removeAllListeners('error');
      attempt.succeed(
        new ByteStreamConnection(socket, {
          transport: 'tls',
          maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_LINE_BYTES,
          exactFraming: options.exactFraming,
          holdInput: true,
        }),
      );
    });
    socket.once('error', (error) => attempt.fail(connectFailure(where, error)));
    // The server closing before the handshake ends is an error of its own ('end' without 'error').
    socket.once('end', () =>
      attempt.fail(
        new TransportError(
          'ECP_TLS_FAILED',
          `TLS to ${where} failed: the server closed the connection during the TLS handshake; is it a tls:// port?`,
        ),
      ),
    );
    return () => socket.destroy();
  });
}

/** A secure context from PEM texts; a clear error when they are missing or do not fit together. */
export function serverSecureContext(endpoint: Endpoint, options: ListenOptions): SecureContext {
  if (options.tls === undefined) {
    throw new TransportError(
      'ECP_LISTEN_FAILED',
      `cannot listen on ${formatEndpoint(endpoint)}: a TLS certificate and key are needed (--tls-cert, --tls-key)`,
    );
  }
  try {
    return createSecureContext({
      cert: options.tls.cert,
      key: options.tls.key,
      minVersion: TLS_MIN_VERSION,
      ciphers: TLS_CIPHERS,
      honorCipherOrder: true,
    });
  } catch (cause) {
    throw new TransportError(
      'ECP_LISTEN_FAILED',
      `cannot listen on ${formatEndpoint(endpoint)}: unusable TLS certificate or key: ${(cause as Error).message}`,
      { cause },
    );
  }
}

export async function listenTls(
  endpoint: Endpoint,
  options: ListenOptions,
  onConnection: (connection: Connection) => void,
): Promise<Listener> {
  const secureContext = serverSecureContext(endpoint, options);
  const reject = (socket: Socket, reason: string, detail?: string) =>
    options.onRejected?.({
      transport: 'tls',
      peer: formatHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0),
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', () => {});
    // The TLS handshake (and the wait for its first byte) must not outlast the handshake timeout.
    const timer = setTimeout(() => {
      reject(socket, 'tls_handshake_timeout');
      socket.destroy();
    }, options.handshakeTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (!looksLikeTlsHandshake(first)) {
        clearTimeout(timer);
        const answer = wrongTransportAnswer(first, 'tls');
        reject(socket, 'not_tls', answer?.description ?? 'bytes that are not a TLS handshake');
        if (answer?.reply === undefined) socket.destroy();
        else socket.end(answer.reply);
        return;
      }
      socket.unshift(first);
      const secure = new TLSSocket(socket, { isServer: true, secureContext });
      secure.once('error', (error: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(socket, 'tls_handshake_failed', error.code ?? error.message);
        secure.destroy();
      });
      secure.once('secure', () => {
        clearTimeout(timer);
        secure.removeAllListeners('error');
        onConnection(
          new ByteStreamConnection(secure, { transport: 'tls', maxMessageBytes: options.maxMessageBytes }),
        );
      });
    });
  });
  await listenOn(server, endpoint, (error) =>
    options.onRejected?.({
      transport: 'tls',
      peer: '',
      reason: 'accept_failed',
      detail: error.code ?? error.message,
    }),
  );
  const port = (server.address() as AddressInfo).port;
  return { transport: 'tls', host: endpoint.host, port, path: '', close: () => closeServer(server) };
}

/**
 * Whether a TLS handshake that offers only `version` succeeds at `endpoint`: how a test kit checks
 * that a server refuses versions older than TLS 1.2. The certificate is not what is checked here.
 */
export function tlsVersionAccepted(
  endpoint: Endpoint,
  version: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3',
  timeoutMs = 5000,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: endpoint.host,
      port: endpoint.port,
      minVersion: version,
      maxVersion: version,
      rejectUnauthorized: false,
      // OpenSSL's default security level refuses TLS 1.0 and 1.1 on the client side already.
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    const done = (accepted: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
