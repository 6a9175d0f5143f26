/**
 * A TCP relay on 127.0.0.1 that a test can cut: every connection through it drops and new ones
 * are refused until it is restored. Put between a node and Redis, it is a network cut of that
 * one link, while the other nodes keep theirs.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    this.#server = server;
  }

  /** Relays a free port of 127.0.0.1 to `targetPort`. */
  static async start(targetPort: number): Promise<TcpRelay> {
    const accept: { to?: (client: Socket) => void } = {};
    const server = createServer((client) => accept.to?.(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const relay = new TcpRelay(server, (server.address() as { port: number }).port);
    accept.to = (client) => relay.#accept(client, targetPort);
    return relay;
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.#cut = true;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  restore(): void {
    this.#cut = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #accept(client: Socket, targetPort: number): void {
    if (this.#cut) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.#sockets.delete(from);
        to.destroy();
      });
    }
  }
}
