/**
 * Where one room lives in Redis. Every key of a room carries the room name as a hash tag
 * (`{name}`), so they all fall in one slot: the Lua scripts may touch them together, and rooms can
 * later be spread over a Redis Cluster, one room per slot.
 */

/** Room names and node ids: what fits in a Redis key and a log field without escaping. */
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function isClusterId(text: string): boolean {
  return ID_PATTERN.test(text);
}

export interface RoomKeys {
  /** Everything before a per-node suffix, for scripts that build a node's keys themselves. */
  readonly prefix: string;
  /** The room's log: one Redis Stream, every join, leave and chat in one total order. */
  readonly log: string;
  /** The last sequence number given to a log entry (INCR), so a reader can see a gap. */
  readonly seq: string;
  /** The room key (Fernet key text), set once by whichever node comes first. */
  readonly roomKey: string;
  /** A random word set with the room key; a new one means Redis lost the room and it was restored. */
  readonly epoch: string;
  /** Hash: member name → owner (`node/instance/n`), the cluster-wide name reservation. */
  readonly owners: string;
  /** Sorted set: member name by the sequence number of its join, for user_list's join order. */
  readonly order: string;
  /** Set of the node ids that hold members or a lease. */
  readonly nodes: string;
  lease(node: string): string;
  /** Set of the names a node holds, so a survivor can remove a dead node's members. */
  names(node: string): string;
}

export function roomKeys(room: string): RoomKeys {
  const prefix = `ecp:{${room}}:`;
  return {
    prefix,
    log: `${prefix}log`,
    seq: `${prefix}seq`,
    roomKey: `${prefix}key`,
    epoch: `${prefix}epoch`,
    owners: `${prefix}owners`,
    order: `${prefix}order`,
    nodes: `${prefix}nodes`,
    lease: (node) => `${prefix}lease:${node}`,
    names: (node) => `${prefix}names:${node}`,
  };
}
