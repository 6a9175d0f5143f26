/**
 * What a transport offers beyond the core Connection, for the few callers that need it: the
 * conformance kit misbehaves on purpose (raw access), the bench counts messages without reading them
 * (fast receive). The core interface stays what every user needs, as nats.js keeps its Transport
 * small; a caller asks for a capability with `rawAccess(connection)` or `fastReceive(connection)`
 * and gets a TransportError ECP_UNSUPPORTED when the connection's transport does not offer it.
 */
import type { Connection, ConnectOptions } from './connection.ts';
import { TransportError } from './errors.ts';

/** Misbehaving on purpose, as a conformance kit (or a fault benchmark) needs; nothing else uses it. */
export type RawAccess =
  | {
      kind: 'bytes';
      /** Writes bytes as they are: split lines, bytes that are not UTF-8, no line feed. */
      write(bytes: Uint8Array): void;
      /** Ends the connection abruptly with a TCP reset (RST). */
      reset(): void;
    }
  | {
      kind: 'frames';
      /** Sends one WebSocket frame as it is: binary, oversize, two messages in one. */
      send(data: string | Buffer, options: { binary: boolean }): void;
    };

/**
 * Where fast-received messages go: receivers that count rather than read (the bench) get each
 * message as bytes in place, without a string per message. Byte streams hand over slices of their
 * read buffer.
 */
export interface MessageSink {
  /** One message at bytes[start, end), without framing; valid only during the call. */
  message(bytes: Buffer, start: number, end: number): void;
  /** Every message of one network read has been handed over. */
  readDone(): void;
}

export interface FastReceive {
  /** From now on messages go to `sink`, not to 'message' events (framing errors still are events). */
  receiveInto(sink: MessageSink): void;
}

/**
 * Connect options of the fast receive path: byte streams read into `readBuffer`, which the caller
 * reuses across connections (the bench gives one per thread) instead of a new buffer per read.
 * Transports that cannot (WebSocket) ignore it.
 */
export interface FastReceiveConnectOptions extends ConnectOptions {
  readBuffer?: Buffer;
}

/** The capabilities a connection's transport offers; each is absent when it does not. */
export interface ConnectionCapabilities {
  raw?: RawAccess;
  fastReceive?: FastReceive;
}

const offered = new WeakMap<Connection, ConnectionCapabilities>();

/** Called by a transport, once, for each connection it makes. */
export function offerCapabilities(connection: Connection, capabilities: ConnectionCapabilities): void {
  offered.set(connection, capabilities);
}

/** What `connection` offers, for callers that can do without a capability. */
export function capabilitiesOf(connection: Connection): ConnectionCapabilities {
  return offered.get(connection) ?? {};
}

/** Raw access to `connection`; throws ECP_UNSUPPORTED when its transport offers none. */
export function rawAccess(connection: Connection): RawAccess {
  return capabilitiesOf(connection).raw ?? unsupported(connection, 'raw access');
}

/** The fast receive path of `connection`; throws ECP_UNSUPPORTED when its transport offers none. */
export function fastReceive(connection: Connection): FastReceive {
  return capabilitiesOf(connection).fastReceive ?? unsupported(connection, 'fast receive');
}

function unsupported(connection: Connection, what: string): never {
  throw new TransportError(
    'ECP_UNSUPPORTED',
    `the ${connection.transport}:// connection to ${connection.peer} offers no ${what}`,
  );
}
