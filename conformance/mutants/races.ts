/**
 * Mutants with concurrency bugs: each passes every scripted scenario (they go one careful step at a
 * time) and is found only by `ecp fuzz`, whose generated histories make things happen at once
 * (test/conformance/fuzz/races.integration.test.ts finds each with a fixed seed). Both are proxies in front of
 * the reference server, like the other mutants, rewriting or re-timing what it says.
 */
import type { Fault, ProxiedConnection } from './fault-proxy.ts';
import { parsed } from './fault-proxy.ts';

export interface RaceMutant {
  name: string;
  fault: string;
  /** The requirement a fuzz run finds broken (or `room order`, see conformance/fuzz/checker.ts). */
  requirement: string;
  build: Fault;
}

/** How long a handshake takes between the snapshot of the room and the insertion (RSA work, say). */
const JOIN_WINDOW_MS = 25;
/** The most a chat line waits in one member's queue for one sender. */
const DELIVERY_JITTER_MS = 15;

/** Lines of the join sequence still to come after the key_exchange: the `secured` notice, the user_list. */
const AFTER_KEY = 2;

/** Tracks, per connection, whether the next lines are the rest of its own join sequence. */
function joinSequenceTracker() {
  const left = new Map<ProxiedConnection, number>();
  return {
    /** Call for each line to the client; true while it is one of the connection's own join lines. */
    ownJoinLine(line: string, connection: ProxiedConnection): boolean {
      if (parsed(line)?.type === 'key_exchange') {
        left.set(connection, AFTER_KEY);
        return true;
      }
      const remaining = left.get(connection) ?? 0;
      if (remaining === 0) return false;
      left.set(connection, remaining - 1);
      return true;
    },
  };
}

/** The name in `X has joined the chat` or `X has left the chat`. */
function noticeSubject(line: string): { name: string; joined: boolean } | undefined {
  const message = parsed(line);
  const match =
    message?.type === 'system' ? /^(.*) has (joined|left) the chat$/.exec(String(message.message)) : null;
  return match ? { name: match[1]!, joined: match[2] === 'joined' } : undefined;
}

/**
 * A join that is not one atomic step: the room is read when the handshake arrives, the key work
 * takes a while, and the user lists of the join are built from the room as it was read. Two joins
 * at once each miss the other: the second's list, and the one the room gets for it, lack the first.
 */
function nonAtomicJoin(): Fault {
  const roomWhenAsked = new Map<string, Set<string>>();
  const held = new Map<ProxiedConnection, string[]>();
  const heldList = new Map<ProxiedConnection, string>();
  const tracker = joinSequenceTracker();
  const stale = (line: string, joiner: string): string => {
    const message = parsed(line)!;
    const room = roomWhenAsked.get(joiner);
    if (!room || !Array.isArray(message.users)) return line;
    const users = message.users.filter((name) => room.has(String(name)) || name === joiner);
    return JSON.stringify({ ...message, users });
  };
  return {
    fromClient: (line, connection, proxy) => {
      const queued = held.get(connection);
      if (queued) {
        queued.push(line);
        return [];
      }
      const message = parsed(line);
      if (message?.type !== 'handshake' || connection.admitted) return [line];
      const members = [...proxy.connections].filter((other) => other.admitted && !other.client.destroyed);
      roomWhenAsked.set(String(message.username), new Set(members.map((other) => other.requestedName ?? '')));
      held.set(connection, [line]);
      setTimeout(() => {
        const lines = held.get(connection) ?? [];
        held.delete(connection);
        for (const out of lines) connection.toServer(out);
      }, JOIN_WINDOW_MS);
      return [];
    },
    toClient: (line, connection) => {
      if (tracker.ownJoinLine(line, connection)) {
        return parsed(line)?.type === 'user_list' ? [stale(line, connection.requestedName ?? '')] : [line];
      }
      if (parsed(line)?.type === 'user_list') {
        heldList.set(connection, line);
        return [];
      }
      const list = heldList.get(connection);
      if (list === undefined) return [line];
      heldList.delete(connection);
      const subject = noticeSubject(line);
      return [subject?.joined ? stale(list, subject.name) : list, line];
    },
  };
}

/**
 * Each member's chat messages go out through one queue per sender (a thread per pair, say), so
 * every sender's messages keep their order but two senders' interleave differently at different
 * members. Echoes wait the longest, so relays still go first (ECP-CHAT-02 holds).
 */
function perMemberDelivery(): Fault {
  const queues = new Map<ProxiedConnection, Map<string, DeliveryQueue>>();
  const heldList = new Map<ProxiedConnection, string>();
  const tracker = joinSequenceTracker();
  const deliver = (connection: ProxiedConnection, source: string, lines: string[], delayMs: number) => {
    const bySource = queues.get(connection) ?? new Map<string, DeliveryQueue>();
    queues.set(connection, bySource);
    let queue = bySource.get(source);
    if (!queue) {
      queue = new DeliveryQueue(connection);
      bySource.set(source, queue);
    }
    queue.add(lines, delayMs);
  };
  return {
    toClient: (line, connection) => {
      if (tracker.ownJoinLine(line, connection)) return [line];
      const message = parsed(line);
      if (message?.type === 'user_list') {
        heldList.set(connection, line);
        return [];
      }
      const list = heldList.get(connection);
      if (list !== undefined) {
        heldList.delete(connection);
        // A join or leave waits only behind that member's own chats, never for a delay of its own.
        deliver(connection, noticeSubject(line)?.name ?? '', [list, line], 0);
        return [];
      }
      if (message?.type === 'message') {
        const sender = String(message.sender);
        const echo = sender === connection.requestedName;
        const delay = echo ? DELIVERY_JITTER_MS + 2 : Math.floor(Math.random() * DELIVERY_JITTER_MS);
        deliver(connection, sender, [line], delay);
        return [];
      }
      return [line];
    },
  };
}

/** One sender's lines to one member: each waits its delay, and none overtakes one queued before it. */
class DeliveryQueue {
  readonly #items: { at: number; lines: string[] }[] = [];
  #timer: NodeJS.Timeout | undefined;
  constructor(readonly connection: ProxiedConnection) {}

  add(lines: string[], delayMs: number): void {
    const last = this.#items.at(-1)?.at ?? 0;
    this.#items.push({ at: Math.max(last, Date.now() + delayMs), lines });
    this.#drain();
  }

  #drain(): void {
    if (this.#timer) return;
    while (this.#items.length > 0 && this.#items[0]!.at <= Date.now()) {
      for (const line of this.#items.shift()!.lines)
        if (!this.connection.client.destroyed) this.connection.client.write(`${line}\n`);
    }
    const next = this.#items[0];
    if (next)
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#drain();
      }, next.at - Date.now());
  }
}

export const RACE_MUTANTS: readonly RaceMutant[] = [
  {
    name: 'non-atomic join',
    fault:
      'reads the room when a handshake arrives and builds the join user lists from that, after the key work',
    requirement: 'ECP-UL-01',
    build: nonAtomicJoin(),
  },
  {
    name: 'per-member delivery without a room-wide order',
    fault:
      "delivers each member's chat messages through one queue per sender, so members see two senders interleaved differently",
    requirement: 'room order',
    build: perMemberDelivery(),
  },
];
