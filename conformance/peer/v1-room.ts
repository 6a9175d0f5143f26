/**
 * A ready-made v1 room, as the original prototype's server plays it: one room key, the join
 * sequence of protocol/join.ts, relay to the others then echo to the sender, the user list on every
 * join and leave, a taken name answered with a system notice on a connection that stays open, a
 * wrong password with auth_error and a close, and JSON written as Python writes it. Unlike the
 * prototype it can send a new room key, and a `deliver` hook can stage what a relay does to each
 * recipient (drop, duplicate, reorder, delay), so a test scripts only the odd parts.
 */
import {
  authErrors,
  Fernet,
  joinAnnouncement,
  joinSequence,
  leaveAnnouncement,
  notices,
  wrapRoomKey,
} from '../../protocol/index.ts';
import { DEFAULT_WAIT_MS, type PeerConnection, type Received } from './peer-connection.ts';
import { pythonJson } from './python-json.ts';
import { type PeerListenOptions, type ScriptedPeer, startPeer } from './scripted-peer.ts';

export interface RoomMember {
  readonly name: string;
  readonly publicKeyPem: string;
  readonly connection: PeerConnection;
  /** Place in join order over the room's life (0: the first to join). */
  readonly order: number;
}

/** One chat line on its way from `sender` to `recipient` (the sender too: its echo). */
export interface Delivery {
  readonly sender: RoomMember;
  readonly recipient: RoomMember;
  /** The encoded message, without its line feed; `recipient.connection.sendLine(text)` sends it. */
  readonly text: string;
}

export interface V1RoomOptions {
  password: string;
  /** How messages are written. Default Python's json.dumps, as the prototype writes them. */
  encode?: (message: object) => string;
  /** Sends each relayed chat line; default at once. */
  deliver?: (delivery: Delivery) => void;
}

export class V1Room {
  readonly members: RoomMember[] = [];
  readonly #connections = new Set<PeerConnection>();
  readonly #password: string;
  readonly #encode: (message: object) => string;
  readonly #deliver: (delivery: Delivery) => void;
  #roomKey = Fernet.generateKey();
  #joined = 0;

  constructor(options: V1RoomOptions) {
    this.#password = options.password;
    this.#encode = options.encode ?? pythonJson;
    this.#deliver = options.deliver ?? ((delivery) => delivery.recipient.connection.sendLine(delivery.text));
  }

  get roomKey(): string {
    return this.#roomKey;
  }

  /** Plays the room for one connection until it closes: a peer's script. */
  readonly serve = async (connection: PeerConnection): Promise<void> => {
    this.#connections.add(connection);
    let member: RoomMember | undefined;
    try {
      for await (const message of connection.messages()) {
        if (message.type === 'handshake' && member === undefined) {
          if (message.server_password !== this.#password) {
            this.#send(connection, { type: 'auth_error', message: authErrors.invalidPassword });
            connection.end();
            return;
          }
          member = this.#join(connection, message);
        } else if (message.type === 'message' && member !== undefined) {
          this.#relay(member, message);
        }
      }
    } finally {
      this.#connections.delete(connection);
      if (member !== undefined) this.#leave(member);
    }
  };

  /** Sends every member a new room key (the prototype never does; v1 clients must accept it). */
  rotateKey(): string {
    this.#roomKey = Fernet.generateKey();
    for (const member of this.members) {
      this.#send(member.connection, {
        type: 'key_exchange',
        encrypted_key: wrapRoomKey(this.#roomKey, member.publicKeyPem),
      });
    }
    return this.#roomKey;
  }

  /** Sends the shutdown notice on every connection and ends it. */
  shutDown(): void {
    for (const connection of this.#connections) {
      this.#send(connection, { type: 'system', message: notices.shuttingDown });
      connection.end();
    }
  }

  #join(connection: PeerConnection, handshake: Received): RoomMember | undefined {
    const name = String(handshake.username);
    if (this.members.some((other) => other.name === name)) {
      this.#send(connection, { type: 'system', message: notices.usernameTaken });
      return undefined;
    }
    const member: RoomMember = {
      name,
      publicKeyPem: String(handshake.public_key),
      connection,
      order: this.#joined++,
    };
    this.members.push(member);
    const users = this.members.map((other) => other.name);
    const encryptedKey = wrapRoomKey(this.#roomKey, member.publicKeyPem);
    for (const message of joinSequence(name, encryptedKey, users)) this.#send(connection, message);
    this.#broadcast(joinAnnouncement(name, users), member);
    return member;
  }

  #relay(sender: RoomMember, message: Received): void {
    const text = this.#encode({
      type: 'message',
      sender: sender.name,
      message: message.message,
      encrypted: message.encrypted,
    });
    // v1 order: everyone else first, then the echo.
    for (const recipient of this.members) {
      if (recipient !== sender) this.#deliver({ sender, recipient, text });
    }
    this.#deliver({ sender, recipient: sender, text });
  }

  #leave(member: RoomMember): void {
    this.members.splice(this.members.indexOf(member), 1);
    this.#broadcast(
      leaveAnnouncement(
        member.name,
        this.members.map((other) => other.name),
      ),
    );
  }

  #broadcast(messages: object[], except?: RoomMember): void {
    for (const member of this.members) {
      if (member === except) continue;
      for (const message of messages) this.#send(member.connection, message);
    }
  }

  #send(connection: PeerConnection, message: object): void {
    connection.sendLine(this.#encode(message));
  }
}

export interface RunningRoom {
  readonly room: V1Room;
  readonly peer: ScriptedPeer;
  readonly port: number;
  readonly url: string;
  /** Sends the shutdown notice to everyone, then stops listening and drops what is left. */
  close(): Promise<void>;
}

/** A peer that plays a v1 room on every connection. */
export async function startV1Room(options: V1RoomOptions & PeerListenOptions): Promise<RunningRoom> {
  const room = new V1Room(options);
  const peer = await startPeer(room.serve, options);
  return {
    room,
    peer,
    port: peer.port,
    url: peer.url,
    close: async () => {
      room.shutDown();
      // Give the notice time to reach clients that are reading; one that is not is dropped.
      const gone = Promise.all(peer.connections.map((connection) => connection.whenClosed));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, DEFAULT_WAIT_MS)))]);
      clearTimeout(timer);
      await peer.close();
    },
  };
}

/**
 * Plays the room's side of one successful join on a scripted connection: reads the handshake,
 * sends the join sequence for `users` (the joiner last) with `roomKey`, and returns the handshake.
 */
export async function acceptJoin(
  connection: PeerConnection,
  roomKey: string,
  users?: string[],
): Promise<Received> {
  const handshake = await connection.expect((message) => message.type === 'handshake');
  const username = String(handshake.username);
  const encryptedKey = wrapRoomKey(roomKey, String(handshake.public_key));
  for (const message of joinSequence(username, encryptedKey, users ?? [username])) connection.send(message);
  return handshake;
}
