/**
 * The v1 join and leave sequences (docs/protocol.md sections 4 and 10), without I/O: what a server
 * sends when someone joins or leaves, and the client's side of joining as a small state machine.
 * The reference server, the reference client, the bench's load clients, the conformance kit and
 * the test fakes all join through this one definition.
 */
import type { KeyObject } from 'node:crypto';
import { CryptoError } from './errors.ts';
import type { HandshakeMessage, ServerMessage } from './messages.ts';
import { notices } from './notices.ts';
import { unwrapRoomKey } from './v1.ts';

/** A client's first message. */
export function handshakeMessage(username: string, password: string, publicKeyPem: string): HandshakeMessage {
  return { type: 'handshake', username, server_password: password, public_key: publicKeyPem };
}

/** What the new member receives, in order: welcome, key_exchange, secured, user_list (ECP-HS-03). */
export function joinSequence(username: string, encryptedKey: string, users: string[]): ServerMessage[] {
  return [
    { type: 'system', message: notices.welcome(username) },
    { type: 'key_exchange', encrypted_key: encryptedKey },
    { type: 'system', message: notices.secured },
    { type: 'user_list', users },
  ];
}

/** What every other member receives when someone joins: user_list, then the notice (ECP-HS-04, 05). */
export function joinAnnouncement(username: string, users: string[]): ServerMessage[] {
  return [
    { type: 'user_list', users },
    { type: 'system', message: notices.joined(username) },
  ];
}

/** What every remaining member receives when someone leaves: user_list, then the notice (ECP-LV-01, 02). */
export function leaveAnnouncement(username: string, users: string[]): ServerMessage[] {
  return [
    { type: 'user_list', users },
    { type: 'system', message: notices.left(username) },
  ];
}

export type JoinState = 'pending' | 'joined' | 'refused';

/** Why a join failed, in the client's terms. */
export type JoinRefusal =
  /** The server answered with `auth_error` (wrong password, invalid name, server full, ...). */
  | { reason: 'auth_error'; serverMessage: string }
  /** The v1 `Username already taken` notice: the connection stays open, unadmitted. */
  | { reason: 'username_taken'; serverMessage: string }
  /** The server could not use our public key (the prototype's `Error establishing secure connection`). */
  | { reason: 'key_refused'; serverMessage: string }
  /** A `key_exchange` we cannot open with our private key. */
  | { reason: 'key_unusable'; error: CryptoError };

export interface ClientJoinOptions {
  /** Opens the room key with this key; without it the room key is only noted as received. */
  privateKey?: KeyObject;
}

/**
 * The client's side of a join: feed it every server message received after the handshake until
 * it leaves `pending`. Joined = a `user_list` after a `key_exchange` (the v1 join sequence); a
 * `user_list` before the key is remembered but does not complete the join.
 */
export class ClientJoin {
  state: JoinState = 'pending';
  /** The members as of the latest `user_list`. */
  users: string[] | undefined;
  /** The room key text, once a `key_exchange` was opened (with `privateKey`). */
  roomKeyText: string | undefined;
  /** Set when `state` is 'refused'. */
  refusal: JoinRefusal | undefined;
  #keyReceived = false;
  readonly #privateKey: KeyObject | undefined;

  constructor(options: ClientJoinOptions = {}) {
    this.#privateKey = options.privateKey;
  }

  /** Whether a `key_exchange` has arrived (and, with a private key, was opened). */
  get keyReceived(): boolean {
    return this.#keyReceived;
  }

  /** Takes one server message; returns the state after it. Messages after the join are not its business. */
  receive(message: ServerMessage): JoinState {
    if (this.state !== 'pending') return this.state;
    switch (message.type) {
      case 'auth_error':
        return this.#refuse({ reason: 'auth_error', serverMessage: message.message });
      case 'system':
        if (message.message === notices.usernameTaken) {
          return this.#refuse({ reason: 'username_taken', serverMessage: message.message });
        }
        if (message.message === notices.keyFailed) {
          return this.#refuse({ reason: 'key_refused', serverMessage: message.message });
        }
        return this.state;
      case 'key_exchange':
        if (this.#privateKey !== undefined) {
          try {
            this.roomKeyText = unwrapRoomKey(message.encrypted_key, this.#privateKey);
          } catch (error) {
            if (!(error instanceof CryptoError)) throw error;
            return this.#refuse({ reason: 'key_unusable', error });
          }
        }
        this.#keyReceived = true;
        return this.state;
      case 'user_list':
        this.users = message.users;
        if (this.#keyReceived) this.state = 'joined';
        return this.state;
      case 'message':
        return this.state;
    }
  }

  #refuse(refusal: JoinRefusal): JoinState {
    this.refusal = refusal;
    this.state = 'refused';
    return this.state;
  }
}
