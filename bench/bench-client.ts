/**
 * One bench client: a connection (any transport) that does a real v1 join (handshake with an RSA
 * public key, key_exchange, user_list, through the protocol's join state machine) and then hands
 * every received message to the worker's accounting.
 */
import type { KeyObject } from 'node:crypto';
import { ClientJoin, encodeMessage, handshakeMessage, parseServerMessage } from '../protocol/index.ts';
import {
  type Connection,
  type ConnectOptions,
  connect,
  type Endpoint,
  fastReceive,
} from '../transport/index.ts';
import { nowMicros } from './clock.ts';
import { DeliveryScanner, type ScanSink } from './delivery-scanner.ts';

export interface BenchClientOptions {
  endpoint: Endpoint;
  /** How to trust a TLS server. */
  connectOptions: ConnectOptions;
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

/** Receives what a joined client gets; `receivedMicros` is taken once per network read. */
export interface ClientReceiver {
  delivery: (
    client: BenchClient,
    fields: Parameters<ScanSink['delivery']>[0],
    receivedMicros: number,
    line: Buffer,
    start: number,
    end: number,
  ) => void;
  /** The read that delivered these messages is done (closed-loop senders refill here). */
  readDone: (client: BenchClient) => void;
  closed: (client: BenchClient, hadError: boolean) => void;
}

export class JoinError extends Error {
  override readonly name = 'JoinError';
}

/** Bench clients accept whatever a server sends, however long. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * One receive buffer for every client of a thread: each read is scanned before the next one can
 * happen (what is kept is copied), so the clients need not allocate 64 KiB per read, and the
 * garbage collector need not reclaim a gigabyte a second at full rate. Byte streams use it.
 */
const receiveBuffer = Buffer.allocUnsafe(64 * 1024);

export class BenchClient {
  readonly options: BenchClientOptions;
  /** The room key text, when this client unwrapped it. */
  roomKey: string | undefined;
  joined = false;
  /** Lines after the join that were not bench deliveries (user lists, notices, foreign chat). */
  otherLines = 0;
  #connection: Connection | undefined;
  readonly #scanner: DeliveryScanner;
  #receiver: ClientReceiver | undefined;
  #receivedMicros = 0;
  /** Whether this read has been stamped with its time yet. */
  #stamped = false;
  #closed = false;
  #onJoinLine: ((line: string) => void) | undefined;
  readonly #scanSink: ScanSink;

  /** Worker bookkeeping: this client's index among the worker's clients, and in the whole run. */
  constructor(
    options: BenchClientOptions,
    readonly localIndex: number,
    readonly globalIndex: number,
  ) {
    this.options = options;
    this.#scanner = new DeliveryScanner(options.payloadLength);
    this.#scanSink = {
      delivery: (fields, line, start, end) => {
        this.#receiver?.delivery(this, fields, this.#receivedMicros, line, start, end);
      },
      other: (line, start, end) => {
        if (this.#onJoinLine) this.#onJoinLine(line.toString('utf8', start, end));
        else this.otherLines++;
      },
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bytesReceived(): number {
    return this.#connection?.bytesReceived ?? 0;
  }

  /** Output queued and not yet taken by the operating system. */
  get pendingOutputBytes(): number {
    return this.#connection?.pendingOutputBytes ?? 0;
  }

  /** Connects and joins; rejects with a JoinError saying what the server answered. */
  async join(timeoutMs: number): Promise<JoinTimes> {
    const { endpoint, password, name, publicKeyPem } = this.options;
    const startedMicros = nowMicros();
    let connection: Connection;
    try {
      connection = await connect(endpoint, {
        ...this.options.connectOptions,
        timeoutMs,
        maxMessageBytes: MAX_MESSAGE_BYTES,
        readBuffer: receiveBuffer,
      });
    } catch (error) {
      throw new JoinError(`${name}: ${(error as Error).message}`);
    }
    const connectedMicros = nowMicros();
    this.#connection = connection;
    fastReceive(connection).receiveInto({
      message: (bytes, start, end) => {
        if (!this.#stamped) {
          this.#receivedMicros = nowMicros();
          this.#stamped = true;
        }
        this.#scanner.scan(bytes, start, end, this.#scanSink);
      },
      readDone: () => {
        this.#stamped = false;
        this.#receiver?.readDone(this);
      },
    });
    connection.on('close', (info) => {
      this.#closed = true;
      this.#receiver?.closed(this, info.error !== undefined);
    });
    const join = new ClientJoin(this.options.unwrapKey ? { privateKey: this.options.privateKey } : {});
    return new Promise<JoinTimes>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        this.#onJoinLine = undefined;
        connection.destroy();
        reject(new JoinError(`${name}: ${why}`));
      };
      const timer = setTimeout(() => fail(`not joined within ${timeoutMs} ms`), timeoutMs);
      const onClose = () => fail('the server closed the connection during the join');
      connection.once('close', onClose);
      this.#onJoinLine = (line) => {
        const parsed = parseServerMessage(line);
        if (!parsed.ok) return;
        const state = join.receive(parsed.message);
        if (state === 'refused') {
          const refusal = join.refusal!;
          return fail(
            refusal.reason === 'key_unusable'
              ? `cannot decrypt the room key: ${refusal.error.message}`
              : `${refusal.reason}: ${refusal.serverMessage}`,
          );
        }
        if (state === 'joined') {
          clearTimeout(timer);
          connection.off('close', onClose);
          this.#onJoinLine = undefined;
          this.roomKey = join.roomKeyText;
          this.joined = true;
          resolve({ startedMicros, connectedMicros, joinedMicros: nowMicros() });
        }
      };
      connection.send(encodeMessage(handshakeMessage(name, password, publicKeyPem)));
    });
  }

  receiveWith(receiver: ClientReceiver): void {
    this.#receiver = receiver;
  }

  /** Sends encoded lines (each ending in its line feed) in one go. */
  writeLines(lines: readonly string[], bytes: number): void {
    if (!this.#closed) this.#connection?.sendBatch(lines, bytes);
  }

  close(): void {
    this.#receiver = undefined;
    this.#connection?.destroy();
  }
}
