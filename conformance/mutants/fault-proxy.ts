/**
 * A deliberately broken ECP server, for checking a conformance kit (ours, or an instructor's
 * scenarios) and for "find the bug" exercises: the real reference server with a proxy in front of
 * it that injects ONE fault (a "mutant"). The reference server itself has no fault switches; every
 * fault lives here, in how the proxy rewrites, drops, delays or withholds lines, or in the limits
 * the server underneath is started with.
 *
 * The proxy reads both directions as lines (with the protocol's LineDecoder) and writes each line
 * on; a fault sees each line with the state of its connection and returns the lines to pass on.
 */
import { constants, publicEncrypt } from 'node:crypto';
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import {
  generateRsaKeyPair,
  type Limits,
  LineDecoder,
  type RsaKeyPair,
  unwrapRoomKey,
} from '../../protocol/index.ts';
import { type EmbeddedStarter, startReferenceServer } from '../../server-under-test/index.ts';

/** The reference server behind the proxy, as the embedded starter started it. */
interface Upstream {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** What a fault knows about one proxied connection. */
export class ProxiedConnection {
  /** The name of the last handshake the client sent. */
  requestedName: string | undefined;
  /** The password of the last handshake the client sent. */
  password: string | undefined;
  /** Set once the server sent this connection its key_exchange. */
  admitted = false;
  /** The last user_list the client was sent. */
  lastUserList: string[] | undefined;
  /** With key interception: the public key the client sent (the server got the proxy's). */
  clientPublicKeyPem: string | undefined;
  #releaseAt = 0;
  #pending = 0;

  constructor(
    readonly id: number,
    readonly client: Socket,
    readonly server: Socket,
  ) {}

  /** Writes a line to the client, after `delayMs`, never ahead of a line written before it. */
  toClient(line: string, delayMs = 0): void {
    const text = `${line}\n`;
    if (delayMs <= 0 && this.#pending === 0) {
      if (!this.client.destroyed) this.client.write(text);
      return;
    }
    this.#releaseAt = Math.max(this.#releaseAt, Date.now() + delayMs);
    this.#pending++;
    setTimeout(() => {
      this.#pending--;
      if (!this.client.destroyed) this.client.write(text);
    }, this.#releaseAt - Date.now());
  }

  toServer(line: string): void {
    if (!this.server.destroyed) this.server.write(`${line}\n`);
  }
}

export interface Fault {
  /** Limits for the reference server underneath, where the fault is a missing or wrong limit. */
  serverLimits?: Partial<Limits>;
  /** Replaces the line splitting of client bytes (a server that frames differently). */
  clientBytes?(chunk: Buffer, connection: ProxiedConnection): Buffer;
  /** Lines from the client to pass to the server (default: the line). */
  fromClient?(line: string, connection: ProxiedConnection, proxy: FaultProxy): string[];
  /** Lines from the server to pass to the client (default: the line). */
  toClient?(line: string, connection: ProxiedConnection, proxy: FaultProxy): string[];
  /** Lines to pass to the server when the client has ended its side, before the server's side ends. */
  clientEnded?(connection: ProxiedConnection, proxy: FaultProxy): string[];
  /** Delay before a line reaches the client, in ms (order is kept). */
  delayToClient?(line: string, connection: ProxiedConnection): number;
  /** The client's connection stays open when the server closes it. */
  keepClientOpen?: boolean;
  /**
   * Key interception: the server encrypts the room key to the proxy's key, and this makes the
   * client's `encrypted_key` from the room key text and the client's public key PEM.
   */
  wrapRoomKey?(roomKeyText: string, clientPublicKeyPem: string): string;
  /** A shutdown that closes every connection without a word. */
  silentShutdown?: boolean;
  /**
   * While any client is this far behind in reading, stop reading from the server for everyone.
   * Below BACKPRESSURE_BYTES, or the proxy would only ever hold back the one slow client.
   */
  stallAllAboveBytes?: number;
  /**
   * An instantaneous slow-reader rule and no backpressure: the proxy reads the server as fast as it
   * writes (so the server never sees anyone slow) and disconnects a client the moment more than
   * this many bytes wait to be written to it.
   */
  cutAbovePendingBytes?: number;
}

/** The line of a message as JSON, or undefined. */
export function parsed(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** RSA-OAEP with a chosen hash, for faults that encrypt the room key the wrong way. */
export function oaepWith(hash: 'sha1' | 'sha256', pem: string, data: Buffer): string {
  return publicEncrypt(
    { key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
    data,
  ).toString('base64');
}

/** One proxy key for every connection: generated once per process. */
let proxyKeys: Promise<RsaKeyPair> | undefined;

/** A client this far behind makes the proxy stop reading for it, so the server sees a slow reader as it is. */
const BACKPRESSURE_BYTES = 64 * 1024;

export class FaultProxy {
  readonly connections = new Set<ProxiedConnection>();
  /** The server password, for faults that act as if it had been given. */
  readonly password: string;
  readonly #fault: Fault;
  readonly #reference: Upstream;
  readonly #keys: RsaKeyPair;
  readonly #net: Server;
  #nextId = 0;
  #stalled = false;

  private constructor(fault: Fault, reference: Upstream, password: string, keys: RsaKeyPair) {
    this.password = password;
    this.#fault = fault;
    this.#reference = reference;
    this.#keys = keys;
    this.#net = createServer({ allowHalfOpen: true }, (client) => this.#accept(client));
  }

  /** An EmbeddedStarter for the conformance runner: the reference server, with this fault in front. */
  static starter(fault: Fault): EmbeddedStarter {
    // A line proxy over plain TCP: mutants are tested over tcp:// only.
    return async ({ endpoint, password, limits, output }) => {
      const { host, port } = endpoint;
      proxyKeys ??= generateRsaKeyPair();
      const reference = await startReferenceServer({
        endpoint: { transport: 'tcp', host, port: 0, path: '' },
        password,
        limits: { ...limits, ...fault.serverLimits },
        output,
        tls: undefined,
      });
      const upstream = { host, port: reference.port, close: () => reference.close() };
      const proxy = new FaultProxy(fault, upstream, password, await proxyKeys);
      await new Promise<void>((resolve) => proxy.#net.listen(port, host, resolve));
      return { port: (proxy.#net.address() as AddressInfo).port, close: () => proxy.close() };
    };
  }

  /** The server "crashes": every connection is cut and nothing is accepted any more. */
  crash(): void {
    this.#net.close();
    for (const connection of this.connections) {
      connection.client.destroy();
      connection.server.destroy();
    }
  }

  async close(): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    if (this.#fault.silentShutdown) this.crash();
    // Otherwise the reference server says goodbye through the proxy, which closes each client after it.
    await this.#reference.close();
    for (const connection of this.connections) connection.client.destroy();
    await listenerClosed;
  }

  #accept(client: Socket): void {
    const server = new Socket();
    const connection = new ProxiedConnection(++this.#nextId, client, server);
    this.connections.add(connection);
    client.on('error', () => {});
    server.on('error', () => {});
    client.pause();
    server.connect(this.#reference.port, this.#reference.host, () => client.resume());
    if (this.#stalled) server.pause();

    const fromClient = new LineDecoder({ maxLineBytes: 64 * 1024 * 1024 });
    client.on('data', (chunk: Buffer) => {
      const bytes = this.#fault.clientBytes?.(chunk, connection) ?? chunk;
      for (const item of fromClient.push(bytes)) {
        // A line that is not UTF-8 (or too long even here) reaches the server as a line it must ignore.
        const line = typeof item === 'string' ? item : '\ufffd';
        this.#fromClient(line, connection);
      }
    });
    client.on('end', () => {
      for (const line of this.#fault.clientEnded?.(connection, this) ?? []) connection.toServer(line);
      server.end();
    });
    client.on('close', () => {
      server.destroy();
      this.connections.delete(connection);
    });

    const fromServer = new LineDecoder({ maxLineBytes: 64 * 1024 * 1024 });
    server.on('data', (chunk: Buffer) => {
      for (const item of fromServer.push(chunk))
        if (typeof item === 'string') this.#toClient(item, connection);
    });
    server.on('close', () => {
      if (!this.#fault.keepClientOpen) client.end();
    });
    client.on('drain', () => {
      if (this.#fault.stallAllAboveBytes !== undefined) this.#checkStall();
      if (!this.#stalled) server.resume();
    });
  }

  #fromClient(line: string, connection: ProxiedConnection): void {
    const message = parsed(line);
    if (message?.type === 'handshake') {
      if (typeof message.username === 'string') connection.requestedName = message.username;
      if (typeof message.server_password === 'string') connection.password = message.server_password;
      if (this.#fault.wrapRoomKey && typeof message.public_key === 'string') {
        connection.clientPublicKeyPem = message.public_key;
        line = JSON.stringify({ ...message, public_key: this.#keys.publicKeyPem });
      }
    }
    const lines = this.#fault.fromClient?.(line, connection, this) ?? [line];
    for (const out of lines) connection.toServer(out);
  }

  #toClient(line: string, connection: ProxiedConnection): void {
    const message = parsed(line);
    if (message?.type === 'key_exchange') {
      connection.admitted = true;
      if (
        this.#fault.wrapRoomKey &&
        connection.clientPublicKeyPem &&
        typeof message.encrypted_key === 'string'
      ) {
        const roomKey = unwrapRoomKey(message.encrypted_key, this.#keys.privateKey);
        line = JSON.stringify({
          type: 'key_exchange',
          encrypted_key: this.#fault.wrapRoomKey(roomKey, connection.clientPublicKeyPem),
        });
      }
    }
    const lines = this.#fault.toClient?.(line, connection, this) ?? [line];
    if (message?.type === 'user_list' && Array.isArray(message.users) && lines.length > 0) {
      connection.lastUserList = message.users as string[];
    }
    for (const out of lines) connection.toClient(out, this.#fault.delayToClient?.(out, connection) ?? 0);
    const cutAbove = this.#fault.cutAbovePendingBytes;
    if (cutAbove !== undefined) {
      if (connection.client.writableLength > cutAbove) {
        connection.client.destroy();
        connection.server.destroy();
      }
      return;
    }
    if (connection.client.writableLength > BACKPRESSURE_BYTES) connection.server.pause();
    if (this.#fault.stallAllAboveBytes !== undefined) this.#checkStall();
  }

  /** A server that writes to everyone under one lock with blocking writes: one full socket stalls all. */
  #checkStall(): void {
    const limit = this.#fault.stallAllAboveBytes ?? Number.POSITIVE_INFINITY;
    const stalled = [...this.connections].some((connection) => connection.client.writableLength > limit);
    if (stalled === this.#stalled) return;
    this.#stalled = stalled;
    for (const connection of this.connections) {
      if (stalled) connection.server.pause();
      else connection.server.resume();
    }
  }
}
