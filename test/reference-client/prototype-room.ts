/**
 * A stand-in for the Python prototype server, as the prototype behaves on the wire:
 * one room key for the server's life, the v1 join and leave sequences, relay-then-echo, the taken
 * name answered with a system notice on a connection that stays open, and JSON written the way
 * Python's json.dumps writes it (", " and ": " separators, every non-ASCII character as \uXXXX).
 * Unlike the prototype it can rotate its key, to test key changes.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import {
  authErrors,
  Fernet,
  joinAnnouncement,
  joinSequence,
  LineDecoder,
  leaveAnnouncement,
  notices,
  wrapRoomKey,
} from '../../protocol/index.ts';

export interface PrototypeRoom {
  readonly port: number;
  readonly roomKey: string;
  /** Sends a new room key to every member (the prototype never does; v1 clients must accept it). */
  rotateKey(): string;
  /** Sends the shutdown notice to everyone and closes. */
  close(): Promise<void>;
}

interface Member {
  socket: Socket;
  name: string;
  publicKeyPem: string;
}

export async function startPrototypeRoom(password = 'secret123'): Promise<PrototypeRoom> {
  let roomKey = Fernet.generateKey();
  const members: Member[] = [];
  const sockets = new Set<Socket>();
  const write = (socket: Socket, message: object): void => {
    if (!socket.destroyed) socket.write(`${pythonJson(message)}\n`);
  };
  const broadcast = (message: object, except?: Member): void => {
    for (const member of members) if (member !== except) write(member.socket, message);
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    let member: Member | undefined;
    const decoder = new LineDecoder();
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (member === undefined) return;
      members.splice(members.indexOf(member), 1);
      for (const message of leaveAnnouncement(
        member.name,
        members.map((m) => m.name),
      ))
        broadcast(message);
    });
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        if (typeof line !== 'string') continue;
        let value: Record<string, unknown>;
        try {
          value = JSON.parse(line);
        } catch {
          continue;
        }
        if (value.type === 'handshake' && member === undefined) {
          if (value.server_password !== password) {
            write(socket, { type: 'auth_error', message: authErrors.invalidPassword });
            socket.end();
            return;
          }
          const name = String(value.username);
          if (members.some((m) => m.name === name)) {
            write(socket, { type: 'system', message: notices.usernameTaken });
            continue;
          }
          member = { socket, name, publicKeyPem: String(value.public_key) };
          members.push(member);
          const users = members.map((m) => m.name);
          const encryptedKey = wrapRoomKey(roomKey, member.publicKeyPem);
          for (const message of joinSequence(name, encryptedKey, users)) write(socket, message);
          for (const message of joinAnnouncement(name, users)) broadcast(message, member);
        } else if (value.type === 'message' && member !== undefined) {
          const relayed = {
            type: 'message',
            sender: member.name,
            message: value.message,
            encrypted: value.encrypted,
          };
          broadcast(relayed, member);
          write(socket, relayed);
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');

  return {
    port: address.port,
    get roomKey() {
      return roomKey;
    },
    rotateKey: () => {
      roomKey = Fernet.generateKey();
      for (const member of members) {
        write(member.socket, {
          type: 'key_exchange',
          encrypted_key: wrapRoomKey(roomKey, member.publicKeyPem),
        });
      }
      return roomKey;
    },
    close: async () => {
      for (const socket of sockets) {
        write(socket, { type: 'system', message: notices.shuttingDown });
        socket.end();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** JSON as Python's json.dumps writes it by default (for flat objects of strings, booleans, string arrays). */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => `${pythonJson(key)}: ${pythonJson(item)}`);
    return `{${entries.join(', ')}}`;
  }
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  return JSON.stringify(value);
}
