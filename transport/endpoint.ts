/**
 * Where a server is, as a URL: `tcp://host:port`, `tls://host:port`, `ws://host:port/path`,
 * `wss://host:port/path`, and, as before URLs, a bare `host:port` or port (plain TCP). One parser
 * for every place a user names a server: `ecp server --listen`, `ecp client`, `--target`.
 */
import { DEFAULT_PORT } from '../protocol/index.ts';
import { TransportError } from './errors.ts';

export const TRANSPORTS = ['tcp', 'tls', 'ws', 'wss'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

export interface Endpoint {
  transport: TransportName;
  /** Host name or IP address, IPv6 without brackets. */
  host: string;
  port: number;
  /** The HTTP path of the WebSocket upgrade (`/` when none is given); '' for tcp and tls. */
  path: string;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORTS: Record<TransportName, number> = { tcp: DEFAULT_PORT, tls: 8443, ws: 80, wss: 443 };

/** Whether the transport is a byte stream of lines (tcp, tls) rather than WebSocket messages. */
export function isByteStream(transport: TransportName): boolean {
  return transport === 'tcp' || transport === 'tls';
}

/** Whether the transport is encrypted with TLS (tls, wss). */
export function usesTls(transport: TransportName): boolean {
  return transport === 'tls' || transport === 'wss';
}

/** What every command prints when --insecure is given: the user should know what it costs. */
export const INSECURE_WARNING =
  "warning: --insecure: the server's certificate is not verified; anyone on the path can read and change everything";

/**
 * Parses an endpoint. Throws a TransportError ECP_BAD_ENDPOINT that says what was expected.
 * `http://` and `https://` are refused with a hint: a WebSocket endpoint is `ws://` or `wss://`.
 */
export function parseEndpoint(text: string): Endpoint {
  const trimmed = text.trim();
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return parseBare(trimmed, text);
  if (!(TRANSPORTS as readonly string[]).includes(scheme)) {
    const hint =
      scheme === 'http' || scheme === 'https'
        ? ` (a WebSocket endpoint is ${scheme === 'http' ? 'ws' : 'wss'}://host:port/path)`
        : '';
    throw badEndpoint(text, `unknown scheme '${scheme}://'${hint}`);
  }
  const transport = scheme as TransportName;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw badEndpoint(text, 'not a valid URL');
  }
  if (url.username || url.password) throw badEndpoint(text, 'credentials do not belong in the URL');
  if (url.search || url.hash) throw badEndpoint(text, 'no query or fragment is allowed');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw badEndpoint(text, 'no host');
  const port = url.port === '' ? DEFAULT_PORTS[transport] : Number(url.port);
  const rawPath = isByteStream(transport) ? '' : url.pathname || '/';
  if (isByteStream(transport) && url.pathname !== '' && url.pathname !== '/') {
    throw badEndpoint(text, `${transport}:// takes no path (only ws:// and wss:// do)`);
  }
  return { transport, host, port: checkPort(port, text), path: rawPath };
}

/** The canonical URL of an endpoint: `tcp://127.0.0.1:8888`, `ws://[::1]:8080/ecp`. */
export function formatEndpoint(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.transport}://${host}:${endpoint.port}${endpoint.path}`;
}

/** `host:port` alone, for messages about a socket address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parseBare(trimmed: string, text: string): Endpoint {
  const match = /^(?:\[([^\]]+)\]|([^:/\s]*)):(\d+)$/.exec(trimmed) ?? /^()()(\d+)$/.exec(trimmed);
  if (!match) {
    throw badEndpoint(
      text,
      'expected a URL (tcp://, tls://, ws://, wss://) or host:port, e.g. 127.0.0.1:8888 or ws://127.0.0.1:8080/ecp',
    );
  }
  return {
    transport: 'tcp',
    host: match[1] || match[2] || DEFAULT_HOST,
    port: checkPort(Number(match[3]), text),
    path: '',
  };
}

function checkPort(port: number, text: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw badEndpoint(text, 'port out of range');
  return port;
}

function badEndpoint(text: string, why: string): TransportError {
  return new TransportError('ECP_BAD_ENDPOINT', `invalid endpoint '${text}': ${why}`);
}
