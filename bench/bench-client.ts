/**
 * One bench client: a TCP connection that does a real v1 join (handshake with an RSA public key,
 * key_exchange, user_list) and then hands every received line to the worker's accounting.
 */
import type { KeyObject } from 'node:crypto';
import { Socket, type SocketConstructorOpts } from 'node:net';
import { encodeMessage, parseServerMessage, unwrapRoomKey } from '../protocol/index.ts';
import { nowMicros } from './clock.ts';
import { DeliveryScanner, type ScanSink } from './delivery-scanner.ts';

export interface BenchClientOptions {
  host: string;
  port: number;
  password: string;
  name: string;
  publicKeyPem: string;
  privateKey: KeyObject;
  /** Decrypt the room key from this client's key_exchange (RSA is costly, so not every client does). */
  unwrapKey: boolean;
  payloadLength: number;
}

export interface JoinTimes {
  startedMicros: number;
  connectedMicros: number;
  joinedMicros: number;
}

/** Receives what a joined client gets; `receivedMicros` is taken once per socket read. */
export interface ClientReceiver {
  delivery: (
    client: BenchClient,
    fields: Parameters<ScanSink['delivery']>[0],
    receivedMicros: number,
    line: Buffer,
    start: number,
    end: number,
  ) => void;
  /** The read that delivered these lines is done (closed-loop senders refill here). */
  readDone: (client: BenchClient) => void;
  closed: (client: BenchClient, hadError: boolean) => void;
}

export class JoinError extends Error {
  override readonly name = 'JoinError';
}

/**
 * One receive buffer for every client of a thread: each read is scanned before the next one can
 * happen (the scanner copies what it keeps), so the clients need not allocate 64 KiB per read, and
 * the garbage collector need not reclaim a gigabyte a second at full rate.
 */
const receiveBuffer = Buffer.allocUnsafe(64 * 1024);

export class BenchClient {
  readonly options: BenchClientOptions;
  readonly socket: Socket;
  /** The room key text, when this client unwrapped it. */
  roomKey: string | undefined;
  joined = false;
  /** Lines after the join that were not bench deliveries (user lists, notices, foreign chat). */
  otherLines = 0;
  bytesReceived = 0;
  readonly #scanner: DeliveryScanner;
  #receiver: ClientReceiver | undefined;
  #receivedMicros = 0;
  #closed = false;
  #onJoinLine: ((line: string) => void) | undefined;

  /** Worker bookkeeping: this client's index among the worker's clients, and in the whole run. */
  constructor(
    options: BenchClientOptions,
    readonly localIndex: number,
    readonly globalIndex: number,
  ) {
    this.options = options;
    this.#scanner = new DeliveryScanner(options.payloadLength);
    const sink: ScanSink = {
      delivery: (fields, line, start, end) => {
        this.#receiver?.delivery(this, fields, this.#receivedMicros, line, start, end);
      },
      other: (line, start, end) => {
        if (this.#onJoinLine) this.#onJoinLine(line.toString('utf8', start, end));
        else this.otherLines++;
      },
    };
    // `onread` is a constructor option (Node's docs moved it there, nodejs/node#54194); the
    // @types/node of Node 20 still lists it under connect() only.
    this.socket = new Socket({
      onread: {
        buffer: receiveBuffer,
        callback: (bytes: number, buffer: Uint8Array) => {
          this.#receivedMicros = nowMicros();
          this.bytesReceived += bytes;
          this.#scanner.push((buffer as Buffer).subarray(0, bytes), sink);
          if (this.#receiver) this.#receiver.readDone(this);
          return true;
        },
      },
    } as SocketConstructorOpts);
    this.socket.setNoDelay(true);
    this.socket.on('error', () => {});
    this.socket.on('close', (hadError) => {
      this.#closed = true;
      this.#receiver?.closed(this, hadError);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Connects and joins; rejects with a JoinError saying what the server answered. */
  join(timeoutMs: number): Promise<JoinTimes> {
    const { host, port, password, name, publicKeyPem } = this.options;
    const startedMicros = nowMicros();
    let connectedMicros = 0;
    let keyExchanged = false;
    return new Promise<JoinTimes>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.#onJoinLine = undefined;
        this.socket.destroy();
        reject(new JoinError(`${name}: ${why}`));
      };
      const timer = setTimeout(() => fail(`not joined within ${timeoutMs} ms`), timeoutMs);
      const onClose = () => fail('the server closed the connection during the join');
      this.socket.once('close', onClose);
      this.socket.once('error', (error) => fail(`connection failed: ${error.message}`));
      this.#onJoinLine = (line) => {
        const parsed = parseServerMessage(line);
        if (!parsed.ok) return;
        const message = parsed.message;
        if (message.type === 'auth_error') return fail(`auth_error: ${message.message}`);
        if (message.type === 'system' && message.message === 'Username already taken') {
          return fail('username already taken');
        }
        if (message.type === 'key_exchange') {
          keyExchanged = true;
          if (this.options.unwrapKey) {
            try {
              this.roomKey = unwrapRoomKey(message.encrypted_key, this.options.privateKey);
            } catch (error) {
              return fail(`cannot decrypt the room key: ${(error as Error).message}`);
            }
          }
          return;
        }
        if (message.type === 'user_list' && keyExchanged) {
          clearTimeout(timer);
          this.socket.off('close', onClose);
          this.#onJoinLine = undefined;
          this.joined = true;
          resolve({ startedMicros, connectedMicros, joinedMicros: nowMicros() });
        }
      };
      this.socket.connect(port, host, () => {
        connectedMicros = nowMicros();
        this.socket.write(
          encodeMessage({
            type: 'handshake',
            username: name,
            server_password: password,
            public_key: publicKeyPem,
          }),
        );
      });
    });
  }

  receiveWith(receiver: ClientReceiver): void {
    this.#receiver = receiver;
  }

  write(text: string): void {
    if (!this.#closed) this.socket.write(text);
  }

  close(): void {
    this.#receiver = undefined;
    this.socket.destroy();
  }
}
