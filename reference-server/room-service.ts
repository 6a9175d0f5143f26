/**
 * What a session and the server ask of the room: one seam, two implementations. `Room` (room.ts)
 * is the room of one process and admits at once; `ClusterRoom` (cluster/) shares one room between
 * nodes through Redis and admits once the name is reserved cluster-wide, so its `join` answers
 * later. Only the server picks which; nothing above this seam knows.
 */
import type { KeyObject } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { RoomMember } from './room.ts';

/** How a join that has to ask the cluster ended. */
export type Admission = 'admitted' | 'name_taken' | 'room_unavailable';

export interface RoomService {
  /** Members now (cluster: of the whole room, as this node knows it). */
  readonly size: number;
  /** Member names in join order (a copy). */
  readonly usernames: string[];
  /** Whether the name is a member's now: the handshake's quick check; `join` has the last word. */
  has(username: string): boolean;
  /**
   * Admits a member whose handshake was accepted, or refuses its name. True/false when decided at
   * once (the local room); a promise when the cluster has to be asked. Throws a CryptoError, before
   * anything is sent or changed, if the room key cannot be wrapped for this public key.
   */
  join(member: RoomMember, publicKey: KeyObject): boolean | Promise<Admission>;
  /** Removes a member; the others get user_list then left. False if it was not a member. */
  leave(member: RoomMember): boolean;
  /** Relays a chat message: to every other member, then the echo to the sender (ECP-CHAT-02). */
  relay(sender: RoomMember, message: string, encrypted: boolean): void;
  /** From now on this server's members leave without notices to each other (the server is shutting down). */
  close(): void;
  /** After the last session closed: let go of what the room holds outside this process. */
  shutdown?(): Promise<void>;
  /** Adds the room's own metrics to /metrics (the cluster's link, latency, recovery). */
  registerMetrics?(registry: Registry): void;
}
