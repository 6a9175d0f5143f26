/**
 * One scripted room member for the flow-control scripts (burst, soak, faults, churn): a real v1
 * join over any transport, then sealed chat out and every chat line in, counted per sender and
 * checked for order. Unlike the load workers it keeps no histograms; it answers "did every message
 * reach me, in order, and was I ever cut off?".
 */
import { EventEmitter } from 'node:events';
import {
  ClientJoin,
  encodeMessage,
  Fernet,
  handshakeMessage,
  openText,
  parseServerMessage,
  type RsaKeyPair,
  type ServerMessage,
  sealText,
  unwrapRoomKey,
} from '../protocol/index.ts';
import { type CloseInfo, type Connection, connect } from '../transport/index.ts';

/** Scripted texts are `<tag> <sequence>` followed by padding: the sequence says where one belongs. */
export function numberedText(tag: string, sequence: number, bytes: number): string {
  return `${tag} ${String(sequence).padStart(8, '0')} `.padEnd(bytes, '.');
}

function sequenceOf(text: string): number | undefined {
  const match = /^\S+ (\d{8}) /.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/** Plaintext bytes whose sealed chat line (`{"type":"message",...}` on the wire) is about `lineBytes`. */
export function plaintextForLine(lineBytes: number): number {
  // A sealed text is base64(base64url(Fernet token)): about 16/9 of its length plus 150 bytes.
  return Math.max(32, Math.floor(((lineBytes - 190) * 9) / 16));
}

export interface MemberOptions {
  /** The server, as a URL: tcp://127.0.0.1:8888, ws://host:port/path, ... */
  url: string;
  username: string;
  password: string;
  keys: RsaKeyPair;
  /** Decrypt every chat line (true) or only note its payload (false, cheaper). Default true. */
  decrypt?: boolean;
  timeoutMs?: number;
}

/** What one member received from one sender. */
export interface FromSender {
  received: number;
  /** Sequence numbers that did not follow the previous one (lost, repeated or reordered). */
  outOfOrder: number;
  lastSequence: number;
}

export interface ChatMemberEvents {
  chat: [sender: string, text: string | undefined];
  message: [message: ServerMessage];
  closed: [info: CloseInfo];
}

export class ChatMember extends EventEmitter<ChatMemberEvents> {
  readonly username: string;
  readonly connection: Connection;
  /** The room key the member holds now (a later key_exchange replaces it). */
  room: Fernet;
  /** Per sender name: what arrived from it. */
  readonly from = new Map<string, FromSender>();
  /** Every key_exchange after the first. */
  keyChanges = 0;
  closedInfo: CloseInfo | undefined;
  closedAt = 0;
  readonly #decrypt: boolean;
  readonly #keys: RsaKeyPair;
  #previous: Fernet | undefined;

  private constructor(connection: Connection, options: MemberOptions, roomKeyText: string) {
    super();
    this.connection = connection;
    this.username = options.username;
    this.room = new Fernet(roomKeyText);
    this.#decrypt = options.decrypt ?? true;
    this.#keys = options.keys;
    connection.on('message', (line) => this.#onLine(line));
    connection.on('close', (info) => {
      this.closedInfo = info;
      this.closedAt = performance.now();
      this.emit('closed', info);
    });
  }

  /** Connects and joins; rejects when the server refuses or does not answer in time. */
  static async join(options: MemberOptions): Promise<ChatMember> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const connection = await connect(options.url, { timeoutMs });
    const join = new ClientJoin({ privateKey: options.keys.privateKey });
    const roomKeyText = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`${options.username}: no join within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onLine = (line: string) => {
        const parsed = parseServerMessage(line);
        if (!parsed.ok) return;
        const state = join.receive(parsed.message);
        if (state === 'joined' && join.roomKeyText !== undefined) {
          cleanup();
          resolve(join.roomKeyText);
        } else if (state === 'refused') {
          fail(new Error(`${options.username}: join refused (${JSON.stringify(join.refusal)})`));
        }
      };
      const onClose = () => fail(new Error(`${options.username}: connection closed while joining`));
      const cleanup = () => {
        clearTimeout(timer);
        connection.off('message', onLine);
        connection.off('close', onClose);
      };
      const fail = (error: Error) => {
        cleanup();
        connection.destroy();
        reject(error);
      };
      connection.on('message', onLine);
      connection.on('close', onClose);
      connection.send(
        encodeMessage(handshakeMessage(options.username, options.password, options.keys.publicKeyPem)),
      );
    });
    return new ChatMember(connection, options, roomKeyText);
  }

  get isOpen(): boolean {
    return this.closedInfo === undefined;
  }

  /** A chat line sealed with the current room key, ready to send. */
  chatLine(text: string): string {
    return encodeMessage({ type: 'message', message: sealText(this.room, text), encrypted: true });
  }

  /** Sends one encoded line; returns the output the connection holds for the server now. */
  send(line: string): number {
    this.connection.send(line);
    return this.connection.pendingOutputBytes;
  }

  /** Resolves once the connection's pending output has drained (or it closed). */
  drained(): Promise<void> {
    if (this.connection.pendingOutputBytes === 0 || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.connection.off('drain', done);
        this.off('closed', done);
        resolve();
      };
      this.connection.on('drain', done);
      this.on('closed', done);
    });
  }

  /** Leaves: closes gracefully and waits (at most `timeoutMs`) for the server to close its side. */
  async leave(timeoutMs = 2000): Promise<void> {
    if (!this.isOpen) return;
    const closed = new Promise<void>((resolve) => this.once('closed', () => resolve()));
    this.connection.end();
    const timer = setTimeout(() => this.connection.destroy(), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  received(sender: string): FromSender {
    let entry = this.from.get(sender);
    if (entry === undefined) {
      entry = { received: 0, outOfOrder: 0, lastSequence: 0 };
      this.from.set(sender, entry);
    }
    return entry;
  }

  #onLine(line: string): void {
    const parsed = parseServerMessage(line);
    if (!parsed.ok) return;
    const message = parsed.message;
    if (message.type === 'key_exchange') {
      // A new room key (a server that rotates keys): keep the previous one for messages in flight.
      this.#previous = this.room;
      this.room = new Fernet(unwrapRoomKey(message.encrypted_key, this.#keys.privateKey));
      this.keyChanges++;
    }
    if (message.type !== 'message') {
      this.emit('message', message);
      return;
    }
    const text = this.#decrypt ? this.#open(message.message, message.encrypted) : undefined;
    const entry = this.received(message.sender);
    entry.received++;
    const sequence = text === undefined ? undefined : sequenceOf(text);
    if (sequence !== undefined) {
      if (sequence !== entry.lastSequence + 1) entry.outOfOrder++;
      entry.lastSequence = sequence;
    }
    this.emit('chat', message.sender, text);
  }

  #open(payload: string, encrypted: boolean): string | undefined {
    if (!encrypted) return payload;
    try {
      return openText(this.room, payload);
    } catch {
      if (this.#previous === undefined) return undefined;
      try {
        return openText(this.#previous, payload);
      } catch {
        return undefined;
      }
    }
  }
}
