/**
 * A Connection over a byte stream (a TCP socket, or a TLS socket on top of one): messages are
 * lines, split by the protocol's LineDecoder. The server's coalesced writes end here: a batch of
 * lines leaves in one write (one TLS record, one syscall) however many lines it holds.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { FramingError, LineDecoder, type LineSink } from '../protocol/index.ts';
import { type MessageSink, offerCapabilities } from './capabilities.ts';
import type { CloseInfo, Connection, ConnectionEvents, EndReason } from './connection.ts';
import { formatHostPort } from './endpoint.ts';
import { InputHold } from './input-hold.ts';
import { joinShared } from './shared-batch.ts';
import { wrongTransportAnswer } from './sniff.ts';

/** Up to this many queued bytes are copied into one Buffer; above it, cork + write each avoids the copy. */
const CONCAT_MAX_BYTES = 64 * 1024;

export interface ByteStreamOptions {
  transport: 'tcp' | 'tls';
  maxMessageBytes: number;
  /** Report blank lines and a last line without its line feed (a test kit). */
  exactFraming?: boolean;
  /** Client side: hold input until the caller listens (see InputHold). */
  holdInput?: boolean;
  /**
   * Server side of a plain port: look at the first bytes for another transport's opening (a TLS
   * ClientHello, an HTTP request) and answer it at once instead of waiting for a handshake timeout.
   */
  detectWrongTransport?: boolean;
}

export class ByteStreamConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly transport: 'tcp' | 'tls';
  readonly peer: string;
  readonly remoteAddress: string;
  readonly subprotocol = undefined;
  readonly #socket: Socket;
  readonly #decoder: LineDecoder;
  readonly #exact: boolean;
  #detect: boolean;
  #sink: MessageSink | undefined;
  #sinkAdapter: LineSink | undefined;
  #error: (Error & { code?: string }) | undefined;
  #closed = false;
  bytesReceived = 0;
  readonly #hold: InputHold;

  /**
   * Wraps a connected socket. With `usesOnread`, the socket was made with net's `onread` option
   * and its callback calls `receive()`; otherwise 'data' events are read here.
   */
  constructor(socket: Socket, options: ByteStreamOptions, usesOnread = false) {
    super();
    this.transport = options.transport;
    this.#socket = socket;
    this.#exact = options.exactFraming ?? false;
    this.#detect = options.detectWrongTransport ?? false;
    this.#hold = new InputHold(options.holdInput ?? false);
    if (this.#hold.holding) {
      (this as EventEmitter).on('newListener', (event: string) => {
        if (event === 'message' || event === 'close') this.#hold.release();
      });
    }
    this.#decoder = new LineDecoder({ maxLineBytes: options.maxMessageBytes, keepBlankLines: this.#exact });
    this.remoteAddress = socket.remoteAddress ?? '';
    this.peer = formatHostPort(this.remoteAddress, socket.remotePort ?? 0);
    offerCapabilities(this, {
      raw: {
        kind: 'bytes',
        write: (bytes) => {
          if (this.writable) socket.write(bytes);
        },
        // A TCP reset; a TLS socket cannot send one (Node refuses), so it is dropped without close_notify.
        reset: () => (this.transport === 'tcp' ? socket.resetAndDestroy() : socket.destroy()),
      },
      fastReceive: { receiveInto: (sink) => this.#receiveInto(sink) },
    });
    socket.setNoDelay(true);
    if (!usesOnread) socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.#hold.run(() => this.#onEnd()));
    // ECONNRESET and EPIPE are how peers vanish; 'close' follows and reports it.
    socket.on('error', (error: Error & { code?: string }) => {
      this.#error ??= error;
    });
    socket.on('drain', () => this.emit('drain'));
    socket.on('close', () => this.#hold.run(() => this.#onClose()));
  }

  get pendingOutputBytes(): number {
    return this.#socket.writableLength;
  }

  get writable(): boolean {
    return !this.#socket.destroyed && !this.#socket.writableEnded;
  }

  get paused(): boolean {
    return this.#socket.isPaused();
  }

  send(line: Buffer | string): void {
    if (this.writable) this.#socket.write(line);
  }

  sendBatch(lines: readonly Buffer[] | readonly string[], bytes: number): void {
    const count = lines.length;
    if (count === 0 || !this.writable) return;
    const socket = this.#socket;
    if (count === 1) {
      socket.write(lines[0]!);
    } else if (typeof lines[0] === 'string') {
      socket.write((lines as readonly string[]).join(''));
    } else if (bytes <= CONCAT_MAX_BYTES) {
      socket.write(joinShared(lines as readonly Buffer[], bytes));
    } else {
      socket.cork();
      for (let i = 0; i < count; i++) socket.write(lines[i]!);
      socket.uncork();
    }
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  #receiveInto(sink: MessageSink): void {
    this.#hold.release();
    this.#sink = sink;
    this.#sinkAdapter = {
      line: (bytes, start, end) => sink.message(bytes, start, end),
      error: (error) => this.emit('framingError', error, false),
    };
  }

  end(_reason?: EndReason): void {
    if (!this.#socket.writableEnded) this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** One chunk of input (from 'data' or net's onread); it may be reused once this returns. */
  receive(chunk: Buffer): void {
    if (this.#hold.holding) {
      const copy = Buffer.from(chunk);
      this.#hold.run(() => this.receive(copy));
      return;
    }
    if (this.#closed) return;
    this.bytesReceived += chunk.length;
    if (this.#detect) {
      this.#detect = false;
      const answer = wrongTransportAnswer(chunk, this.transport);
      if (answer !== undefined) {
        this.emit('framingError', new FramingError('ECP_WRONG_TRANSPORT', answer.description), true);
        if (answer.reply === undefined) this.#socket.destroy();
        else this.#socket.end(answer.reply);
        return;
      }
    }
    if (this.#sinkAdapter !== undefined) {
      this.#decoder.scan(chunk, this.#sinkAdapter);
      this.#sink?.readDone();
      return;
    }
    const items = this.#decoder.push(chunk);
    for (let i = 0; i < items.length; i++) {
      // A message may have ended the connection (a refusal): the rest is not delivered.
      if (this.#socket.destroyed) return;
      const item = items[i]!;
      if (typeof item === 'string') this.emit('message', item);
      else this.emit('framingError', item, false);
    }
  }

  #onEnd(): void {
    if (this.#exact) {
      const fragment = this.#decoder.end();
      if (fragment !== undefined) this.emit('framingError', fragment, false);
    }
    this.emit('end');
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder.reset();
    const info: CloseInfo = { error: this.#error, closeCode: undefined, closeReason: undefined };
    this.emit('close', info);
  }
}
