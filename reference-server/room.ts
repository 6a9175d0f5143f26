/**
 * The room: its members in join order, their unique names, the room key, and every broadcast.
 * A broadcast encodes its line ONCE into a Buffer and hands that same Buffer to each member.
 * Members that cannot take it (slow readers) are evicted after the loop, never during it.
 * With `rotateKeyOnLeave`, a leave gives the remaining members a new room key; `rotateKey()` does
 * the same at any time (the admin API's "rotate now").
 */
import type { KeyObject } from 'node:crypto';
import { Fernet, joinAnnouncement, joinSequence, leaveAnnouncement, wrapRoomKey } from '../protocol/index.ts';
import { chatPrefix, encodeChatLine, encodeLine } from './line-encoder.ts';
import { createStats, type ServerStats, type SlowReaderRule } from './stats.ts';

/** What the room needs from a connection. Session implements it; tests can use plain objects. */
export interface RoomMember {
  readonly username: string;
  /** Queues an encoded line. False when the member is a slow reader and the line was NOT queued. */
  deliver(line: Buffer): boolean;
  /** Disconnects a member whose `deliver` returned false (rule `cap`); it must then leave the room. */
  evictSlowReader(rule: SlowReaderRule): void;
}

export interface RoomOptions {
  /** The Fernet key text shared by every member. Default: a fresh random key. */
  roomKey?: string;
  stats?: ServerStats;
  /**
   * When a member leaves, make a new room key and send it to every remaining member in a fresh
   * `key_exchange` (after the leave notices), so the one who left cannot read what follows.
   * Default off: v1 keeps one key for the server's lifetime (ECP-KX-02).
   */
  rotateKeyOnLeave?: boolean;
  /**
   * Keep each member's public key even without `rotateKeyOnLeave`, so `rotateKey()` can reach
   * every member (the admin API is on). Default off: v1 needs a key only at join.
   */
  keepPublicKeys?: boolean;
}

export class Room {
  #roomKey: string;
  readonly #stats: ServerStats;
  readonly #rotateKeyOnLeave: boolean;
  readonly #keepPublicKeys: boolean;
  /** Member → its public key, to send it a new room key (only kept when keys may rotate). */
  readonly #publicKeys = new Map<RoomMember, KeyObject>();
  #members: RoomMember[] = [];
  /** Member → the start of every line it sends: `{"type":"message","sender":"<name>","message":`. */
  readonly #chatPrefixes = new Map<RoomMember, string>();
  readonly #byName = new Map<string, RoomMember>();
  #closing = false;

  constructor(options: RoomOptions = {}) {
    this.#roomKey = new Fernet(options.roomKey ?? Fernet.generateKey()).keyText;
    this.#stats = options.stats ?? createStats();
    this.#rotateKeyOnLeave = options.rotateKeyOnLeave ?? false;
    this.#keepPublicKeys = this.#rotateKeyOnLeave || (options.keepPublicKeys ?? false);
  }

  /** The room key text members hold now. */
  get roomKey(): string {
    return this.#roomKey;
  }

  get size(): number {
    return this.#members.length;
  }

  /** Member names in join order (a copy). */
  get usernames(): string[] {
    return this.#members.map((member) => member.username);
  }

  has(username: string): boolean {
    return this.#byName.has(username);
  }

  isMember(member: RoomMember): boolean {
    return this.#chatPrefixes.has(member);
  }

  /**
   * Admits a member whose handshake was accepted, unless its name is taken (returns false; the
   * handshake check asks `has` first, so this is only a guard). The joiner gets welcome,
   * key_exchange, secured and user_list; then every other member gets user_list and joined. Throws a CryptoError if the room
   * key cannot be wrapped for this public key, before anything is sent or changed.
   */
  join(member: RoomMember, publicKey: KeyObject): boolean {
    const name = member.username;
    if (this.#byName.has(name)) return false;
    const encryptedKey = wrapRoomKey(this.#roomKey, publicKey);
    this.#members.push(member);
    this.#byName.set(name, member);
    this.#chatPrefixes.set(member, chatPrefix(name));
    if (this.#keepPublicKeys) this.#publicKeys.set(member, publicKey);
    this.#stats.users = this.#members.length;
    const users = this.usernames;
    const fits = joinSequence(name, encryptedKey, users).every((message) =>
      member.deliver(encodeLine(message)),
    );
    const [userList, joined] = joinAnnouncement(name, users).map(encodeLine) as [Buffer, Buffer];
    const victims = this.#deliverToOthers(member, userList, joined);
    if (!fits) member.evictSlowReader('cap');
    this.#evict(victims);
    return true;
  }

  /** Removes a member; the others get user_list then left. False if it was not a member. */
  leave(member: RoomMember): boolean {
    if (!this.#chatPrefixes.delete(member)) return false;
    this.#byName.delete(member.username);
    this.#publicKeys.delete(member);
    const index = this.#members.indexOf(member);
    if (index !== -1) this.#members.splice(index, 1);
    this.#stats.users = this.#members.length;
    if (this.#closing) return true;
    const [userList, left] = leaveAnnouncement(member.username, this.usernames).map(encodeLine) as [
      Buffer,
      Buffer,
    ];
    this.#evict(this.#deliverToOthers(member, userList, left));
    if (this.#rotateKeyOnLeave && this.#members.length > 0) this.rotateKey();
    return true;
  }

  /**
   * A new room key, wrapped for each member's public key (ECP-KX-08); returns how many members got
   * it. A member whose key cannot wrap it (it could at join) keeps the old one; members too slow
   * to take it are evicted. Throws when the room keeps no public keys (neither `rotateKeyOnLeave`
   * nor `keepPublicKeys`): nobody could be given the new key, and later joiners would hold another.
   */
  rotateKey(): number {
    if (!this.#keepPublicKeys) {
      throw new Error('this room keeps no public keys: create it with keepPublicKeys to rotate its key');
    }
    this.#roomKey = new Fernet(Fernet.generateKey()).keyText;
    this.#stats.keyRotations++;
    const victims: RoomMember[] = [];
    let sent = 0;
    for (const member of [...this.#members]) {
      const publicKey = this.#publicKeys.get(member);
      if (publicKey === undefined) continue;
      let line: Buffer;
      try {
        line = encodeLine({ type: 'key_exchange', encrypted_key: wrapRoomKey(this.#roomKey, publicKey) });
      } catch {
        continue;
      }
      if (member.deliver(line)) sent++;
      else victims.push(member);
    }
    this.#evict(victims);
    return sent;
  }

  /**
   * Relays a chat message: to every other member in join order, then the echo to the sender.
   * `sender` comes from the member's authenticated name; the payload is passed through verbatim.
   */
  relay(sender: RoomMember, message: string, encrypted: boolean): void {
    const prefix = this.#chatPrefixes.get(sender);
    if (prefix === undefined) return;
    const chat = encodeChatLine(prefix, message, encrypted);
    this.#stats.messagesRelayed++;
    const victims = this.#deliverToOthers(sender, chat, undefined);
    if (!sender.deliver(chat)) sender.evictSlowReader('cap');
    this.#evict(victims);
  }

  /** Sends one encoded line to every member (but `except`). */
  broadcast(encodedLine: Buffer, except?: RoomMember): void {
    this.#evict(this.#deliverToOthers(except, encodedLine, undefined));
  }

  /** A `system` notice to every member (an operator's announcement); returns how many it reached. */
  announce(text: string): number {
    const members = this.#members.length;
    const victims = this.#deliverToOthers(
      undefined,
      encodeLine({ type: 'system', message: text }),
      undefined,
    );
    this.#evict(victims);
    return members - (victims?.length ?? 0);
  }

  /** The member called `username`, if any. */
  member(username: string): RoomMember | undefined {
    return this.#byName.get(username);
  }

  /** From now on members leave silently (the server is shutting down and says so itself). */
  close(): void {
    this.#closing = true;
  }

  /** One loop for one or two lines, so a member evicted here cannot land between the two. */
  #deliverToOthers(
    except: RoomMember | undefined,
    first: Buffer,
    second: Buffer | undefined,
  ): RoomMember[] | undefined {
    let victims: RoomMember[] | undefined;
    const members = this.#members;
    for (let i = 0; i < members.length; i++) {
      const member = members[i]!;
      if (member === except) continue;
      if (!member.deliver(first) || (second !== undefined && !member.deliver(second))) {
        if (victims === undefined) victims = [member];
        else victims.push(member);
      }
    }
    return victims;
  }

  #evict(victims: RoomMember[] | undefined): void {
    if (victims === undefined) return;
    for (const victim of victims) {
      if (this.#chatPrefixes.has(victim)) victim.evictSlowReader('cap');
    }
  }
}
