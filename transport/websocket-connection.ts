/**
 * A Connection over one WebSocket (the `ws` package): each text frame is one message, checked
 * against the mapping's rules (websocket-mapping.ts); a frame that breaks them closes the
 * connection with the matching close code.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { type RawData, WebSocket } from 'ws';
import { FramingError } from '../protocol/index.ts';
import { type MessageSink, offerCapabilities } from './capabilities.ts';
import type { CloseInfo, Connection, ConnectionEvents, EndReason } from './connection.ts';
import { InputHold } from './input-hold.ts';
import { joinShared } from './shared-batch.ts';
import { textFrame } from './websocket-frames.ts';
import { CARRIAGE_RETURN, CLOSE_CODES, END_CODES, NEWLINE, stripNewline } from './websocket-mapping.ts';

/** Up to this many bytes of frames are copied into one Buffer; above it, cork + write each. */
const CONCAT_MAX_BYTES = 64 * 1024;

export interface WebSocketConnectionOptions {
  transport: 'ws' | 'wss';
  maxMessageBytes: number;
  exactFraming?: boolean;
  /** The TCP socket under the WebSocket, when we hold it (server side): batches are written to it. */
  socket?: Socket;
  /** Whether permessage-deflate may be in use: frames must then go through ws. */
  deflate?: boolean;
  /** Client side: hold input until the caller listens (see InputHold). */
  holdInput?: boolean;
  peer: string;
  remoteAddress: string;
}

export class WebSocketConnection extends EventEmitter<ConnectionEvents> implements Connection {
  readonly transport: 'ws' | 'wss';
  readonly peer: string;
  readonly remoteAddress: string;
  bytesReceived = 0;
  readonly #ws: WebSocket;
  readonly #socket: Socket | undefined;
  /** The socket batches are written to directly, when frames need no deflate (server side). */
  readonly #direct: Socket | undefined;
  readonly #maxMessageBytes: number;
  readonly #exact: boolean;
  #sink: MessageSink | undefined;
  #readDoneQueued = false;
  readonly #readDone = (): void => {
    this.#readDoneQueued = false;
    this.#sink?.readDone();
  };
  #error: (Error & { code?: string }) | undefined;
  #closed = false;
  readonly #hold: InputHold;

  constructor(ws: WebSocket, options: WebSocketConnectionOptions) {
    super();
    this.transport = options.transport;
    this.#ws = ws;
    this.#socket = options.socket;
    this.#direct = options.deflate ? undefined : options.socket;
    this.#maxMessageBytes = options.maxMessageBytes;
    this.#exact = options.exactFraming ?? false;
    this.peer = options.peer;
    this.remoteAddress = options.remoteAddress;
    this.#hold = new InputHold(options.holdInput ?? false);
    if (this.#hold.holding) {
      (this as EventEmitter).on('newListener', (event: string) => {
        if (event === 'message' || event === 'close') this.#hold.release();
      });
    }
    offerCapabilities(this, {
      raw: {
        kind: 'frames',
        send: (data, { binary }) => {
          if (this.writable) ws.send(data, { binary });
        },
      },
      fastReceive: { receiveInto: (sink) => this.#receiveInto(sink) },
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.#hold.holding) this.#hold.run(() => this.#onFrame(data as Buffer, isBinary));
      else this.#onFrame(data as Buffer, isBinary);
    });
    ws.on('error', (error: Error & { code?: string }) => this.#hold.run(() => this.#onError(error)));
    ws.on('close', (code: number, reason: Buffer) =>
      this.#hold.run(() => this.#onClose(code, reason.toString('utf8'))),
    );
    this.#socket?.on('drain', () => this.emit('drain'));
  }

  get subprotocol(): string {
    return this.#ws.protocol;
  }

  get pendingOutputBytes(): number {
    return this.#ws.bufferedAmount;
  }

  get writable(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  get paused(): boolean {
    return this.#ws.isPaused;
  }

  send(line: Buffer | string): void {
    if (!this.writable) return;
    this.#ws.send(stripNewline(line), { binary: false });
  }

  sendBatch(lines: readonly Buffer[] | readonly string[], bytes: number): void {
    if (!this.writable || lines.length === 0) return;
    const socket = this.#direct;
    if (socket !== undefined && typeof lines[0] !== 'string') {
      // Whole frames, written between ws's own (which are whole too): the stream stays well formed.
      const frames = (lines as readonly Buffer[]).map(textFrame);
      if (frames.length === 1) socket.write(frames[0]!);
      else if (bytes <= CONCAT_MAX_BYTES) socket.write(joinShared(frames, framedBytes(frames)));
      else {
        socket.cork();
        for (const frame of frames) socket.write(frame);
        socket.uncork();
      }
      return;
    }
    // Corked, the frames of one batch leave in one write.
    this.#socket?.cork();
    for (let i = 0; i < lines.length; i++) this.#ws.send(stripNewline(lines[i]!), { binary: false });
    this.#socket?.uncork();
  }

  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }

  #receiveInto(sink: MessageSink): void {
    this.#hold.release();
    this.#sink = sink;
  }

  end(reason: EndReason = 'normal'): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.close(END_CODES[reason]);
    }
  }

  destroy(): void {
    this.#ws.terminate();
  }

  /** Closes at once, as destroy() does, with `error` as the reason the close event reports. */
  terminate(error: Error & { code?: string }): void {
    this.#error ??= error;
    this.#ws.terminate();
  }

  #onFrame(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return;
    this.bytesReceived += data.length;
    if (isBinary) {
      this.#violation(
        new FramingError('ECP_BINARY_FRAME', 'a binary frame: ECP messages travel in text frames'),
        CLOSE_CODES.unsupportedData,
        'ECP messages are text frames',
      );
      return;
    }
    let end = data.length;
    if (end > 0 && data[end - 1] === NEWLINE) {
      end -= 1;
      if (end > 0 && data[end - 1] === CARRIAGE_RETURN) end -= 1;
    }
    if (end > this.#maxMessageBytes) {
      this.#violation(
        new FramingError('ECP_LINE_TOO_LONG', `message exceeds ${this.#maxMessageBytes} bytes`),
        CLOSE_CODES.messageTooBig,
        `message over ${this.#maxMessageBytes} bytes`,
      );
      return;
    }
    const inner = data.indexOf(NEWLINE);
    if (inner !== -1 && inner < end) {
      this.#violation(
        new FramingError('ECP_SEVERAL_MESSAGES', 'a text frame holding more than one line'),
        CLOSE_CODES.invalidPayload,
        'one ECP message per frame',
      );
      return;
    }
    if (end === 0 && !this.#exact) return;
    if (this.#sink !== undefined) {
      this.#sink.message(data, 0, end);
      // ws hands over every frame of one network read in one go: say the read is done once, after
      // them all, as a byte stream does (a closed-loop sender then refills per read, not per message).
      if (!this.#readDoneQueued) {
        this.#readDoneQueued = true;
        queueMicrotask(this.#readDone);
      }
      return;
    }
    // ws has checked that a text frame is UTF-8.
    this.emit('message', data.toString('utf8', 0, end));
  }

  #violation(error: FramingError, code: number, reason: string): void {
    this.emit('framingError', error, true);
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code, reason);
  }

  #onError(error: Error & { code?: string }): void {
    this.#error ??= error;
    // ws has already closed with the matching code (1009, 1007, 1002); say what it was.
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.emit(
        'framingError',
        new FramingError('ECP_LINE_TOO_LONG', `message exceeds ${this.#maxMessageBytes} bytes`),
        true,
      );
    } else if (error.code === 'WS_ERR_INVALID_UTF8') {
      this.emit(
        'framingError',
        new FramingError('ECP_INVALID_UTF8', 'a text frame that is not valid UTF-8'),
        true,
      );
    }
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const info: CloseInfo = { error: this.#error, closeCode: code, closeReason: reason || undefined };
    this.emit('close', info);
  }
}

function framedBytes(frames: readonly Buffer[]): number {
  let bytes = 0;
  for (let i = 0; i < frames.length; i++) bytes += frames[i]!.length;
  return bytes;
}
