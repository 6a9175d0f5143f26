/**
 * One harness for tests that need a real reference server: start it on a free port with the
 * given options, connect raw clients (scripted peers) to it, join them, and stop everything.
 */
import { connectPeer, type PeerConnection, type Received } from '../../conformance/peer/index.ts';
import type { RsaKeyPair } from '../../protocol/index.ts';
import { type EcpServer, type ServerOptions, startServer } from '../../reference-server/index.ts';

export const PASSWORD = 'secret123';

export class ServerHarness {
  #server: EcpServer | undefined;
  readonly #clients: PeerConnection[] = [];

  constructor(readonly password = PASSWORD) {}

  /** The running server; throws if none was started. */
  get server(): EcpServer {
    if (this.#server === undefined) throw new Error('no server started');
    return this.#server;
  }

  /** Starts a reference server on 127.0.0.1, a free port, with this harness's password, logging nothing. */
  async start(options: ServerOptions = {}): Promise<EcpServer> {
    this.#server = await startServer({
      host: '127.0.0.1',
      port: 0,
      password: this.password,
      logLevel: 'silent',
      ...options,
    });
    return this.#server;
  }

  /** A raw client connected to the server (or to `port`), closed by stop(). */
  async connect(port = this.server.port): Promise<PeerConnection> {
    const client = await connectPeer({ transport: 'tcp', host: '127.0.0.1', port, path: '' });
    this.#clients.push(client);
    return client;
  }

  /** A raw client that has joined as `name` (the four join lines read). */
  async member(name: string, key: RsaKeyPair, port = this.server.port): Promise<PeerConnection> {
    const client = await this.connect(port);
    await join(client, name, this.password, key);
    return client;
  }

  /** Drops every client and stops the server. */
  async stop(): Promise<void> {
    for (const client of this.#clients.splice(0)) client.destroy();
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }
}

export function handshake(
  client: PeerConnection,
  username: string,
  password: string,
  keys: RsaKeyPair | string,
): void {
  const publicKey = typeof keys === 'string' ? keys : keys.publicKeyPem;
  client.send({ type: 'handshake', username, server_password: password, public_key: publicKey });
}

/** Handshakes and reads the four lines of a successful join. */
export function join(
  client: PeerConnection,
  username: string,
  password: string,
  keys: RsaKeyPair,
): Promise<Received[]> {
  handshake(client, username, password, keys);
  return client.nextN(4);
}
