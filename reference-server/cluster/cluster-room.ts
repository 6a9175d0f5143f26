/**
 * One room shared by every node on the same Redis. Nothing is delivered when it happens here:
 * every join, leave and chat is appended to the room log (a Redis Stream) and delivered when it is
 * read back, so every node delivers the same entries in the same order, its own members' included.
 * For each chat entry the node hands the line to its other members first, then echoes it to the
 * sender (ECP-CHAT-02), exactly as the local room does.
 *
 * What can go wrong, and what members see:
 * - Link down: chat waits in a bounded queue (then is refused with a notice); joins are refused
 *   with `auth_error` (a name cannot be reserved); leaves wait and are sent when the link is back.
 * - Link back: the node reads on from its last entry (what it missed, once, in order), then resends
 *   what the log does not hold yet. A message is confirmed only when read back, so none is sent twice.
 * - Gap (entries trimmed before the node caught up): a notice, a fresh user_list, and on from now.
 * - Redis lost its data: the first node back restores the room key, each node its members; members
 *   are told messages may have been lost.
 * - This node's members removed by others (its lease expired): they are told and disconnected.
 */
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import type { Histogram, Registry } from 'prom-client';
import { joinAnnouncement, joinSequence, leaveAnnouncement, wrapRoomKey } from '../../protocol/index.ts';
import { chatPrefix, encodeChatLine, encodeLine } from '../line-encoder.ts';
import type { Logger } from '../logger.ts';
import type { RoomMember } from '../room.ts';
import type { Admission, RoomService } from '../room-service.ts';
import type { ServerStats } from '../stats.ts';
import {
  type ClusterStats,
  createClusterStats,
  createLatencyHistogram,
  registerClusterMetrics,
} from './cluster-metrics.ts';
import type { ClusterLink } from './link.ts';
import { type LogEntry, parseEntry } from './log-entry.ts';
import { LogReader, type LogSink } from './log-reader.ts';
import { clusterNotices } from './notices.ts';
import { Publisher } from './publisher.ts';
import type { RoomKeys } from './redis-keys.ts';
import { ensureRoom, newEpoch } from './room-key.ts';
import { Roster } from './roster.ts';

/** A member of this node, from its handshake until it leaves. */
interface LocalMember {
  readonly member: RoomMember;
  readonly name: string;
  readonly owner: string;
  readonly publicKey: KeyObject;
  /** `reserving` until Redis answers the join; `admitted` once it did; `joined` once its join entry was delivered. */
  phase: 'reserving' | 'admitted' | 'joined' | 'gone';
  prefix: string;
}

export interface ClusterRoomOptions {
  link: ClusterLink;
  keys: RoomKeys;
  nodeId: string;
  /** Log entries Redis keeps (XADD MAXLEN ~): how far behind a node may fall and still catch up. */
  retention: number;
  /** Chat bytes that may wait for Redis before more are refused with a notice. */
  maxUnconfirmedBytes: number;
  roomKey: string;
  epoch: string;
  stats: ServerStats;
  logger: Logger;
  leaseMs: number;
  heartbeatMs: number;
}

export interface Snapshot {
  names: string[];
  owners: string[];
  lastId: string;
  lastSeq: number;
}

export function parseSnapshot(reply: unknown): Snapshot {
  const [names, owners, lastId, lastSeq] = reply as [string[], string[], string, string];
  return { names, owners, lastId, lastSeq: Number(lastSeq) };
}

const NOT_SENT_LINE = encodeLine({ type: 'system', message: clusterNotices.notSent });
const REMOVED_LINE = encodeLine({ type: 'system', message: clusterNotices.removed });

export class ClusterRoom implements RoomService, LogSink {
  readonly clusterStats: ClusterStats = createClusterStats();
  readonly #latency: Histogram = createLatencyHistogram();
  readonly #publisher: Publisher;
  readonly #link: ClusterLink;
  readonly #keys: RoomKeys;
  readonly #nodeId: string;
  /** This run of the node: owners and publish IDs made here are never made again. */
  readonly #instance = randomBytes(6).toString('hex');
  readonly #retention: number;
  readonly #stats: ServerStats;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #heartbeatMs: number;
  #roomKey: string;
  #epoch: string;
  readonly #roster = new Roster();
  /** This node's members whose join entry was delivered, in log order: who gets each line. */
  #delivering: LocalMember[] = [];
  readonly #byMember = new Map<RoomMember, LocalMember>();
  readonly #byOwner = new Map<string, LocalMember>();
  #nextOwner = 0;
  /** Owners of members of ours whose leave is sent but not yet read back. */
  readonly #leavingOwners = new Set<string>();
  /** The sequence number of the last entry delivered; undefined after a reset (the next one is taken as is). */
  #lastSeq: number | undefined;
  #state: 'up' | 'recovering' | 'down' = 'up';
  #closing = false;
  #stopped = false;
  readonly #reader: LogReader;
  #heartbeat: NodeJS.Timeout | undefined;
  #heartbeatRunning = false;
  /** Recoveries started, so a stale one knows it is. */
  #recoveries = 0;
  /** No reaping of other nodes before this time (they are reconnecting too). */
  #reapAfter = 0;

  constructor(options: ClusterRoomOptions) {
    this.#link = options.link;
    this.#keys = options.keys;
    this.#nodeId = options.nodeId;
    this.#retention = options.retention;
    this.#stats = options.stats;
    this.#logger = options.logger;
    this.#leaseMs = options.leaseMs;
    this.#heartbeatMs = options.heartbeatMs;
    this.#roomKey = options.roomKey;
    this.#epoch = options.epoch;
    this.#reader = new LogReader(this.#link.reader, this.#keys.log, '0-0', this);
    this.#publisher = new Publisher({
      link: this.#link,
      keys: this.#keys,
      retention: this.#retention,
      maxUnconfirmedBytes: options.maxUnconfirmedBytes,
      instance: this.#instance,
      stats: this.clusterStats,
      latency: this.#latency,
      onLeaveRefused: (owner) => this.#leavingOwners.delete(owner),
    });
  }

  /** The room as of one point of its log (start-up): who is in it, and where to read on. */
  resetTo(snapshot: Snapshot): void {
    this.#roster.replace(snapshot.names, snapshot.owners);
    this.#stats.users = this.#roster.size;
    this.#lastSeq = snapshot.lastSeq;
    this.#reader.position = snapshot.lastId;
  }

  /** Starts reading the log and beating the lease. */
  start(): void {
    this.clusterStats.linkUp = true;
    this.#reader.resume();
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  get roomKey(): string {
    return this.#roomKey;
  }

  get size(): number {
    return this.#roster.size;
  }

  get usernames(): string[] {
    return this.#roster.names();
  }

  has(username: string): boolean {
    const owner = this.#roster.ownerOf(username);
    // A member of ours that left holds the name until its leave is read back; but its leave goes
    // to Redis before any join we send after it, so the name is free for a join from here.
    return owner !== undefined && !this.#leavingOwners.has(owner);
  }

  registerMetrics(registry: Registry): void {
    registerClusterMetrics(registry, this.clusterStats, this.#latency);
  }

  // --- what sessions ask ---

  join(member: RoomMember, publicKey: KeyObject): Promise<Admission> {
    // Throws before anything is reserved if this key cannot carry the room key.
    wrapRoomKey(this.#roomKey, publicKey);
    if (this.#state !== 'up' || this.#closing) return Promise.resolve('room_unavailable');
    const name = member.username;
    const local: LocalMember = {
      member,
      name,
      owner: `${this.#nodeId}/${this.#instance}/${++this.#nextOwner}`,
      publicKey,
      phase: 'reserving',
      prefix: chatPrefix(name),
    };
    this.#byMember.set(member, local);
    this.#byOwner.set(local.owner, local);
    // What this node sent before (a leave of this very name, say) must reach Redis first.
    this.#publisher.flush();
    const k = this.#keys;
    return this.#link
      .run(
        'JOIN',
        [k.owners, k.order, k.seq, k.log, k.names(this.#nodeId), k.nodes],
        [name, local.owner, this.#nodeId, this.#retention],
      )
      .then(
        (id): Admission => {
          if (id === null) {
            this.#forget(local);
            return 'name_taken';
          }
          if (local.phase === 'reserving') local.phase = 'admitted';
          return 'admitted';
        },
        (): Admission => {
          // Unknown whether Redis ran it: a leave (which does nothing if it did not) settles it.
          this.#forget(local);
          this.#publisher.leave(name, local.owner, this.#nodeId);
          return 'room_unavailable';
        },
      );
  }

  leave(member: RoomMember): boolean {
    const local = this.#byMember.get(member);
    if (local === undefined) return false;
    this.#forget(local);
    this.#leavingOwners.add(local.owner);
    this.#publisher.leave(local.name, local.owner, this.#nodeId);
    return true;
  }

  relay(sender: RoomMember, message: string, encrypted: boolean): void {
    const local = this.#byMember.get(sender);
    if (local === undefined || local.phase === 'reserving') return;
    if (!this.#publisher.chat(local.name, local.owner, message, encrypted)) {
      this.clusterStats.refusedMessages++;
      if (!sender.deliver(NOT_SENT_LINE)) sender.evictSlowReader('cap');
      return;
    }
    this.#stats.messagesRelayed++;
  }

  close(): void {
    this.#closing = true;
  }

  async shutdown(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    // The leaves of this node's members go now, before RELEASE: Redis answers them in order.
    this.#publisher.flush();
    if (this.#link.up) {
      const k = this.#keys;
      await this.#link
        .run(
          'RELEASE',
          [k.nodes, k.lease(this.#nodeId), k.names(this.#nodeId)],
          [this.#nodeId, this.#instance],
        )
        .catch(() => undefined);
    }
    this.#link.disconnect();
    await this.#reader.stop();
  }

  // --- the link ---

  onDown(): void {
    if (this.#stopped) return;
    this.#state = 'down';
    this.#publisher.active = false;
    this.clusterStats.linkUp = false;
    this.#reader.pause();
  }

  onUp(): void {
    if (this.#stopped || this.#state !== 'down') return;
    this.#state = 'recovering';
    this.clusterStats.reconnects = this.#link.reconnects;
    this.#recover().catch((error: unknown) => {
      // The link dropped again mid-way: the next onUp starts over.
      this.#logger.warn({ err: (error as Error).message }, 'cluster recovery interrupted');
      if (this.#state === 'recovering') this.onDown();
    });
  }

  /**
   * Back after a drop: make sure Redis still has the room (restore it if not), renew the lease,
   * read everything up to the log's current end, then resend what the log does not hold yet.
   */
  async #recover(): Promise<void> {
    // A recovery the link interrupted may wake up later: only the latest one may finish.
    const attempt = ++this.#recoveries;
    const current = () => attempt === this.#recoveries && this.#state === 'recovering';
    const k = this.#keys;
    // A new epoch as proposal: if Redis kept the room we read back the old one.
    const { roomKey, epoch } = await ensureRoom(this.#link, k, { roomKey: this.#roomKey, epoch: newEpoch() });
    if (!current()) return;
    if (epoch !== this.#epoch) await this.#restore(roomKey, epoch);
    if (!current()) return;
    // Every node lost the link too: give their leases time to be renewed before judging them.
    this.#reapAfter = Date.now() + this.#leaseMs + this.#heartbeatMs;
    await this.beatOnce('');
    const last = (await this.#link.writer.xrevrange(k.log, '+', '-', 'COUNT', 1)) as [string, string[]][];
    this.#reader.resume();
    if (last.length > 0) await this.#reader.reached(last[0]![0]);
    if (!current()) return;
    this.#state = 'up';
    this.clusterStats.linkUp = true;
    this.#publisher.active = true;
    this.#publisher.resendAll();
    this.#logger.info(
      { resent: this.#publisher.pending, recoveredEvents: this.clusterStats.recoveredEvents },
      'cluster recovered',
    );
  }

  /** Redis came back without the room: put back what this node knows, and say what may be lost. */
  async #restore(roomKey: string, epoch: string): Promise<void> {
    this.clusterStats.resets++;
    this.#epoch = epoch;
    const k = this.#keys;
    const pairs = this.#delivering.flatMap((local) => [local.name, local.owner]);
    const taken = (await this.#link.run(
      'RESTORE_MEMBERS',
      [k.owners, k.order, k.seq, k.names(this.#nodeId), k.nodes, k.log],
      [this.#nodeId, this.#retention, ...pairs],
    )) as string[];
    this.#logger.error({ members: this.#delivering.length, taken }, 'Redis had lost the room; restored it');
    if (roomKey !== this.#roomKey) this.#rekey(roomKey);
    for (const local of [...this.#delivering]) {
      if (taken.includes(local.name)) this.#dismiss(local);
    }
    // The new log starts over and rebuilds the roster (every node's `present` entries): read it
    // from its start, whatever its numbers.
    this.#roster.replace([], []);
    this.#stats.users = 0;
    this.#reader.position = '0-0';
    this.#lastSeq = undefined;
    this.clusterStats.lostEvents++;
    this.#broadcast(encodeLine({ type: 'system', message: clusterNotices.logReset }));
  }

  /** Another node restored the room with another key first: our members get that one. */
  #rekey(roomKey: string): void {
    this.#roomKey = roomKey;
    for (const local of [...this.#delivering]) {
      const line = encodeLine({ type: 'key_exchange', encrypted_key: wrapRoomKey(roomKey, local.publicKey) });
      if (!local.member.deliver(line)) local.member.evictSlowReader('cap');
    }
  }

  // --- the lease ---

  #beat(): void {
    if (this.#state !== 'up' || this.#heartbeatRunning) return;
    this.#heartbeatRunning = true;
    this.beatOnce('')
      .catch(() => undefined)
      .finally(() => {
        this.#heartbeatRunning = false;
      });
  }

  /** Renews this node's lease and removes the members of nodes whose lease expired. */
  async beatOnce(reapNode: string): Promise<void> {
    const k = this.#keys;
    const [reaped, taken] = (await this.#link.run(
      'HEARTBEAT',
      [k.nodes, k.seq, k.log, k.owners, k.order],
      [
        k.prefix,
        this.#nodeId,
        this.#instance,
        this.#leaseMs,
        reapNode,
        this.#retention,
        Date.now() >= this.#reapAfter ? '1' : '0',
      ],
    )) as [number, number];
    if (reaped > 0) {
      this.clusterStats.reapedMembers += reaped;
      this.#logger.warn({ members: reaped }, 'removed the members of a node whose lease expired');
    }
    if (taken === 1) {
      this.#logger.error('another process renewed this node id lease: give each node its own --node-id');
    }
  }

  // --- delivering the log ---

  apply(_id: string, fields: string[]): boolean {
    const entry = parseEntry(fields);
    if (entry === undefined) return true;
    if (this.#lastSeq !== undefined) {
      if (entry.seq <= this.#lastSeq) return true;
      if (entry.seq !== this.#lastSeq + 1) return false;
    }
    this.#lastSeq = entry.seq;
    if (this.#state === 'recovering') this.clusterStats.recoveredEvents++;
    switch (entry.kind) {
      case 'chat':
        this.#applyChat(entry);
        break;
      case 'join':
        this.#applyJoin(entry.name, entry.owner);
        break;
      case 'leave':
        this.#applyLeave(entry.name, entry.owner);
        break;
      case 'present':
        this.#applyPresent(entry.name, entry.owner);
        break;
    }
    return true;
  }

  /** Entries were trimmed before this node read them: say so, take the room as it is now, go on. */
  async resync(): Promise<string> {
    const k = this.#keys;
    const snapshot = parseSnapshot(await this.#link.run('SNAPSHOT', [k.order, k.owners, k.log, k.seq], []));
    const lost = snapshot.lastSeq - (this.#lastSeq ?? snapshot.lastSeq);
    this.clusterStats.lostEvents += lost;
    this.#logger.error({ lostEvents: lost }, 'fell behind the room log past its retention; resynced');
    this.#lastSeq = snapshot.lastSeq;
    this.#roster.replace(snapshot.names, snapshot.owners);
    this.#stats.users = this.#roster.size;
    // Leaves that fell in the gap will not be read back.
    this.#leavingOwners.clear();
    for (const local of [...this.#delivering]) {
      if (this.#roster.ownerOf(local.name) !== local.owner) this.#dismiss(local);
    }
    // Joins of ours that fell in the gap: their members still need their join lines.
    for (const local of this.#byOwner.values()) {
      if (local.phase !== 'joined' && this.#roster.ownerOf(local.name) === local.owner) this.#admit(local);
    }
    this.#broadcast(encodeLine({ type: 'system', message: clusterNotices.messagesLost(lost) }));
    this.#broadcast(encodeLine({ type: 'user_list', users: this.#roster.names() }));
    return snapshot.lastId;
  }

  #applyChat(entry: Extract<LogEntry, { kind: 'chat' }>): void {
    // Ours is confirmed even when it is not delivered: it is in the log, never to be sent again.
    this.#publisher.confirm(entry.publishId, entry.sentAt);
    // From someone who is no longer a member (removed while its node was cut off): not delivered.
    if (this.#roster.ownerOf(entry.name) !== entry.owner) return;
    const sender = this.#byOwner.get(entry.owner);
    const line = encodeChatLine(sender?.prefix ?? chatPrefix(entry.name), entry.message, entry.encrypted);
    const victims = this.#deliver(sender?.member, line, undefined);
    if (sender !== undefined && sender.phase === 'joined' && !sender.member.deliver(line)) {
      sender.member.evictSlowReader('cap');
    }
    this.#evict(victims);
  }

  #applyJoin(name: string, owner: string): void {
    this.#roster.join(name, owner);
    this.#stats.users = this.#roster.size;
    const local = this.#byOwner.get(owner);
    if (local !== undefined && local.phase !== 'gone') this.#admit(local);
    if (this.#closing) return;
    const [userList, joined] = joinAnnouncement(name, this.#roster.names()).map(encodeLine) as [
      Buffer,
      Buffer,
    ];
    this.#evict(this.#deliver(local?.member, userList, joined));
  }

  /** A member of ours whose join entry was delivered: it gets the join sequence and, from now on, every line. */
  #admit(local: LocalMember): void {
    local.phase = 'joined';
    this.#delivering.push(local);
    const encryptedKey = wrapRoomKey(this.#roomKey, local.publicKey);
    const fits = joinSequence(local.name, encryptedKey, this.#roster.names()).every((message) =>
      local.member.deliver(encodeLine(message)),
    );
    if (!fits) local.member.evictSlowReader('cap');
  }

  #applyLeave(name: string, owner: string): void {
    this.#leavingOwners.delete(owner);
    if (!this.#roster.leave(name, owner)) return;
    this.#stats.users = this.#roster.size;
    const local = this.#byOwner.get(owner);
    // Not asked for here: another node removed ours (this node's lease had expired).
    if (local !== undefined && local.phase !== 'gone') this.#dismiss(local);
    if (this.#closing) return;
    const [userList, left] = leaveAnnouncement(name, this.#roster.names()).map(encodeLine) as [
      Buffer,
      Buffer,
    ];
    this.#evict(this.#deliver(undefined, userList, left));
  }

  #applyPresent(name: string, owner: string): void {
    if (this.#roster.ownerOf(name) === owner) return;
    this.#roster.join(name, owner);
    this.#stats.users = this.#roster.size;
    this.#broadcast(encodeLine({ type: 'user_list', users: this.#roster.names() }));
  }

  #broadcast(line: Buffer): void {
    this.#evict(this.#deliver(undefined, line, undefined));
  }

  /** One loop for one or two lines, so a member evicted here cannot land between the two. */
  #deliver(
    except: RoomMember | undefined,
    first: Buffer,
    second: Buffer | undefined,
  ): RoomMember[] | undefined {
    let victims: RoomMember[] | undefined;
    const members = this.#delivering;
    for (let i = 0; i < members.length; i++) {
      const member = members[i]!.member;
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
      if (this.#byMember.has(victim)) victim.evictSlowReader('cap');
    }
  }

  /** The cluster no longer counts this member of ours: tell it and close it. */
  #dismiss(local: LocalMember): void {
    this.#forget(local);
    this.#logger.warn({ username: local.name }, 'member removed by the cluster');
    const member = local.member as RoomMember & { dismiss?: (lastLine: Buffer) => void };
    if (member.dismiss !== undefined) member.dismiss(REMOVED_LINE);
    else member.evictSlowReader('cap');
  }

  /** This node stops delivering to the member at once; its leave entry follows. */
  #forget(local: LocalMember): void {
    if (local.phase === 'gone') return;
    local.phase = 'gone';
    this.#byMember.delete(local.member);
    this.#byOwner.delete(local.owner);
    const index = this.#delivering.indexOf(local);
    if (index !== -1) this.#delivering.splice(index, 1);
  }
}
