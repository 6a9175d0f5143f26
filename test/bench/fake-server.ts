/**
 * A scripted ECP server for testing the bench's own accounting: it does a real v1 join (key
 * exchange included) and relays chat like a v1 server, except that a script decides, per delivery,
 * to drop it, duplicate it, swap it with the next one to the same recipient, or delay it. It counts
 * what it did, so a test can check that the bench reports exactly that.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  encodeMessage,
  Fernet,
  joinAnnouncement,
  joinSequence,
  LineDecoder,
  parseClientMessage,
  wrapRoomKey,
} from '../../protocol/index.ts';
import type { EmbeddedStarter } from '../../server-under-test/index.ts';

export type DeliveryAction = 'send' | 'drop' | 'duplicate' | 'swap' | { delayMs: number };

export interface DeliveryContext {
  /** The recipient's place in join order (0 = first to join). */
  recipient: number;
  /** How many chat lines this recipient was sent before this one. */
  nth: number;
  senderName: string;
}

export interface FakeServerCounts {
  relayed: number;
  dropped: number;
  duplicated: number;
  /** Swaps actually made (a held line was overtaken by the next one). */
  swapped: number;
  delayed: number;
}

interface Member {
  name: string;
  socket: Socket;
  order: number;
  sentChat: number;
  held: string | undefined;
  heldTimer: NodeJS.Timeout | undefined;
}

export class FakeServer {
  readonly counts: FakeServerCounts = { relayed: 0, dropped: 0, duplicated: 0, swapped: 0, delayed: 0 };
  readonly #room = new Fernet(Fernet.generateKey());
  readonly #members: Member[] = [];
  readonly #sockets = new Set<Socket>();
  #joined = 0;
  #server: Server | undefined;

  constructor(
    readonly password: string,
    readonly script: (context: DeliveryContext) => DeliveryAction = () => 'send',
  ) {}

  /** For `openTarget({ kind: 'embedded', start: fake.starter })`. */
  readonly starter: EmbeddedStarter = async ({ endpoint: { host, port } }) => {
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return { port: address.port, close: () => this.close() };
  };

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    const decoder = new LineDecoder();
    let member: Member | undefined;
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (member) this.#members.splice(this.#members.indexOf(member), 1);
    });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        if (typeof line !== 'string') continue;
        const parsed = parseClientMessage(line);
        if (!parsed.ok) continue;
        const message = parsed.message;
        if (message.type === 'handshake' && !member) {
          if (message.server_password !== this.password) {
            socket.end(encodeMessage({ type: 'auth_error', message: 'Invalid server password' }));
            return;
          }
          member = {
            name: message.username,
            socket,
            order: this.#joined++,
            sentChat: 0,
            held: undefined,
            heldTimer: undefined,
          };
          this.#members.push(member);
          const users = this.#members.map((m) => m.name);
          const encryptedKey = wrapRoomKey(this.#room.keyText, message.public_key);
          socket.write(joinSequence(member.name, encryptedKey, users).map(encodeMessage).join(''));
          const announcement = joinAnnouncement(member.name, users).map(encodeMessage).join('');
          for (const other of this.#members) if (other !== member) other.socket.write(announcement);
        } else if (message.type === 'message' && member) {
          const out = encodeMessage({
            type: 'message',
            sender: member.name,
            message: message.message,
            encrypted: message.encrypted,
          });
          // v1 order: everyone else first, then the echo.
          for (const other of this.#members) if (other !== member) this.#deliver(other, out, member.name);
          this.#deliver(member, out, member.name);
        }
      }
    });
  }

  #deliver(member: Member, line: string, senderName: string): void {
    const action = this.script({ recipient: member.order, nth: member.sentChat++, senderName });
    this.counts.relayed++;
    const held = member.held;
    if (held !== undefined) {
      // The held line is overtaken by this one.
      clearTimeout(member.heldTimer);
      member.held = undefined;
      this.counts.swapped++;
    }
    const send = (text: string) => {
      if (!member.socket.destroyed) member.socket.write(text);
    };
    if (action === 'drop') {
      this.counts.dropped++;
    } else if (action === 'duplicate') {
      this.counts.duplicated++;
      send(line + line);
    } else if (action === 'swap' && held === undefined) {
      member.held = line;
      // Released as is if nothing overtakes it soon (then it was not reordered).
      member.heldTimer = setTimeout(() => {
        member.held = undefined;
        send(line);
      }, 100);
    } else if (typeof action === 'object') {
      this.counts.delayed++;
      setTimeout(() => send(line), action.delayMs);
    } else {
      send(line);
    }
    if (held !== undefined) send(held);
  }
}
