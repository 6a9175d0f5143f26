/**
 * A small raw-line TCP client for the reference server's tests: sends JSON (or raw bytes) and
 * reads parsed lines, with timeouts so a test never hangs. Not a real client: it does exactly
 * what a test tells it, including things a real client never would.
 */
import { connect, type Socket } from 'node:net';
import { generateRsaKeyPair, type RsaKeyPair } from '../../protocol/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests inspect whatever the server sends.
export type Received = Record<string, any>;

export class LineClient {
  readonly socket: Socket;
  readonly received: Received[] = [];
  #buffer = '';
  #read = 0;
  #waiters: (() => void)[] = [];
  #closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.#buffer += text;
      let newline = this.#buffer.indexOf('\n');
      while (newline !== -1) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        if (line !== '') this.received.push(JSON.parse(line) as Received);
        newline = this.#buffer.indexOf('\n');
      }
      this.#wake();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.#closed = true;
        this.#wake();
        resolve();
      }),
    );
  }

  static connect(port: number, host = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new LineClient(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  send(message: object): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  sendRaw(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  handshake(username: string, password: string, keys: RsaKeyPair | string): void {
    const publicKey = typeof keys === 'string' ? keys : keys.publicKeyPem;
    this.send({ type: 'handshake', username, server_password: password, public_key: publicKey });
  }

  /** Handshakes and reads the four lines of a successful join. */
  async join(username: string, password: string, keys: RsaKeyPair): Promise<Received[]> {
    this.handshake(username, password, keys);
    return this.nextN(4);
  }

  /** The next unread line; rejects after `timeoutMs` or if the connection closes first. */
  async next(timeoutMs = 3000): Promise<Received> {
    await this.#waitFor(() => this.received.length > this.#read, timeoutMs, 'a line');
    if (this.received.length <= this.#read) throw new Error('connection closed before a line arrived');
    return this.received[this.#read++]!;
  }

  async nextN(count: number, timeoutMs = 3000): Promise<Received[]> {
    const out: Received[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Resolves when the server has closed the connection; rejects after `timeoutMs`. */
  async closed(timeoutMs = 3000): Promise<void> {
    await this.#waitFor(() => this.#closed, timeoutMs, 'the connection to close');
  }

  /** Waits `ms` and checks that no unread line arrived meanwhile. */
  async expectSilence(ms = 150): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.received.length > this.#read) {
      throw new Error(`expected nothing, got ${JSON.stringify(this.received.slice(this.#read))}`);
    }
  }

  /** Lines received and not yet read by next(). */
  unread(): Received[] {
    return this.received.slice(this.#read);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async #waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.#closed && what === 'a line') return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

let keyCache: Promise<RsaKeyPair[]> | undefined;

/** A few 2048-bit key pairs, generated once per test file (module) and shared by its tests. */
export function testKeys(): Promise<RsaKeyPair[]> {
  keyCache ??= Promise.all([1, 2, 3, 4].map(() => generateRsaKeyPair(2048)));
  return keyCache;
}
