/**
 * What this node appends to the room log, and what it still owes it. A chat message counts as
 * sent only when it is read back from the log (`confirm`), a leave when its script answered; until
 * then it stays here, so after a drop the node resends exactly what the log does not hold.
 * Messages made in one turn of the event loop (every connection read in it) go in one script call.
 * Bounded: chat beyond `maxUnconfirmedBytes` is refused (the room tells the sender).
 */
import type { Histogram } from 'prom-client';
import type { ClusterStats } from './cluster-metrics.ts';
import type { ClusterLink } from './link.ts';
import { chatHead } from './log-entry.ts';
import type { RoomKeys } from './redis-keys.ts';

/** Chat messages per script call: a turn's worth, without holding Redis long for the others. */
const CHAT_BATCH = 256;

type PendingOp =
  | {
      kind: 'chat';
      publishId: string;
      name: string;
      owner: string;
      message: string;
      encrypted: boolean;
      bytes: number;
    }
  | { kind: 'leave'; name: string; owner: string; node: string };

export interface PublisherOptions {
  link: ClusterLink;
  keys: RoomKeys;
  retention: number;
  maxUnconfirmedBytes: number;
  /** Unique to this run of the node: the prefix of every publish ID. */
  instance: string;
  stats: ClusterStats;
  latency: Histogram;
  /** A leave's script answered that the name was not (or no longer) this owner's: nothing to read back. */
  onLeaveRefused: (owner: string) => void;
}

export class Publisher {
  /** Sends as soon as asked while true; while false (link down, recovering) only keeps. */
  active = true;
  readonly #options: PublisherOptions;
  /** Sent (or to send) but not confirmed, in the order they were made. */
  readonly #pending = new Map<string, PendingOp>();
  #unconfirmedBytes = 0;
  /** Made this turn, sent at its end (flush). */
  #toSend: PendingOp[] = [];
  #nextPublish = 0;

  constructor(options: PublisherOptions) {
    this.#options = options;
  }

  /** Ops still owed to the log. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Queues a chat message; false (nothing queued) when the bound is reached. */
  chat(name: string, owner: string, message: string, encrypted: boolean): boolean {
    const bytes = message.length;
    if (this.#unconfirmedBytes + bytes > this.#options.maxUnconfirmedBytes) return false;
    const publishId = `${this.#options.instance}.${++this.#nextPublish}`;
    this.#unconfirmedBytes += bytes;
    this.#options.stats.unconfirmedMessages++;
    this.#enqueue(publishId, { kind: 'chat', publishId, name, owner, message, encrypted, bytes });
    return true;
  }

  leave(name: string, owner: string, node: string): void {
    this.#enqueue(`leave ${owner}`, { kind: 'leave', name, owner, node });
  }

  /** A chat message of ours is in the log: never to be sent again. */
  confirm(publishId: string, sentAt: number): void {
    const op = this.#pending.get(publishId);
    if (op === undefined || op.kind !== 'chat') return;
    this.#pending.delete(publishId);
    this.#unconfirmedBytes -= op.bytes;
    this.#options.stats.unconfirmedMessages--;
    this.#options.latency.observe(Math.max(0, Date.now() - sentAt) / 1000);
  }

  /** After a drop, once the log was read to its end: everything still owed, in order. */
  resendAll(): void {
    for (const op of this.#pending.values()) this.#send(op);
  }

  /** Consecutive chats go in one script call (at most CHAT_BATCH), leaves in their own, in order. */
  flush(): void {
    const ops = this.#toSend;
    if (ops.length === 0) return;
    this.#toSend = [];
    // Down meanwhile: they wait in #pending; recovery sends them.
    if (!this.active) return;
    const { link, keys: k, retention } = this.#options;
    let chat: (string | number)[] = [retention];
    const sendChat = () => {
      if (chat.length === 1) return;
      // Confirmed when read back; if the link dropped, recovery resends what is not in the log.
      link.run('CHAT', [k.seq, k.log], chat).catch(() => undefined);
      chat = [retention];
    };
    const sentAt = Date.now();
    for (const op of ops) {
      if (op.kind === 'chat') {
        chat.push(chatHead({ ...op, sentAt }), op.message);
        if (chat.length > 2 * CHAT_BATCH) sendChat();
        continue;
      }
      sendChat();
      link
        .run('LEAVE', [k.owners, k.order, k.seq, k.log, k.names(op.node)], [op.name, op.owner, retention])
        .then(
          (id) => {
            this.#pending.delete(`leave ${op.owner}`);
            if (id === null) this.#options.onLeaveRefused(op.owner);
          },
          () => undefined,
        );
    }
    sendChat();
  }

  #enqueue(id: string, op: PendingOp): void {
    this.#pending.set(id, op);
    if (this.active) this.#send(op);
  }

  /**
   * Sends at the end of this turn, with the other messages of the turn. setImmediate, not a
   * microtask: a microtask runs after each connection's read, so every sender cost its own script
   * call (about one per sender's window); at the end of the turn the reads of all the senders go
   * in one, which wakes Redis and every node's reader once for them all.
   */
  #send(op: PendingOp): void {
    this.#toSend.push(op);
    if (this.#toSend.length === 1) setImmediate(this.#flushAtTurnEnd);
  }

  readonly #flushAtTurnEnd = (): void => this.flush();
}
