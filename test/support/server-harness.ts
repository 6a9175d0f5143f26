/**
 * One harness for tests that need a real reference server: start it on a free port with the
 * given options, connect raw clients (scripted peers) to it, join them, and stop everything.
 */
import { connectPeer, type PeerConnection, type Received } from '../../conformance/peer/index.ts';
import type { RsaKeyPair } from '../../protocol/index.ts';
import { type EcpServer, type ServerOptions, startServer } from '../../reference-server/index.ts';

export const PASSWORD = 'secret123';

export class ServerHarness {
  readonly #servers: EcpServer[] = [];
  readonly #clients: PeerConnection[] = [];

  constructor(readonly password = PASSWORD) {}

  /** The server started last; throws if none was. */
  get server(): EcpServer {
    const server = this.#servers.at(-1);
    if (server === undefined) throw new Error('no server started');
    return server;
  }

  /** Starts a reference server (one more, if one runs) on 127.0.0.1, a free port, with this harness's password, logging nothing. */
  async start(options: ServerOptions = {}): Promise<EcpServer> {
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      password: this.password,
      logLevel: 'silent',
      ...options,
    });
    this.#servers.push(server);
    return server;
  }

  /** A raw client connected to the server started last (or to `port`), dropped by stop(). */
  async connect(port = this.server.port): Promise<PeerConnection> {
    const client = await connectPeer({ transport: 'tcp', host: '127.0.0.1', port, path: '' });
    this.#clients.push(client);
    return client;
  }

  /** A raw client that has joined as `name` (the four join lines read). */
  async member(name: string, key: RsaKeyPair, port = this.server.port): Promise<PeerConnection> {
    const client = await this.connect(port);
    await joinAs(client, name, this.password, key);
    return client;
  }

  /** Drops every client and stops every server. */
  async stop(): Promise<void> {
    for (const client of this.#clients.splice(0)) client.destroy();
    await Promise.all(this.#servers.splice(0).map((server) => server.close()));
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
export function joinAs(
  client: PeerConnection,
  username: string,
  password: string,
  keys: RsaKeyPair,
): Promise<Received[]> {
  handshake(client, username, password, keys);
  return client.nextN(4);
}
