/**
 * The room key in Redis: made once for the room by whichever node asks first (SET NX inside one
 * script, so two nodes starting together cannot pick different keys), then read by every node.
 * Whoever can read Redis can read this key, and with it every message of the room: protect Redis
 * (docs/protocol.md, Clustering).
 */
import { randomBytes } from 'node:crypto';
import { Fernet } from '../../protocol/index.ts';
import type { ClusterLink } from './link.ts';
import type { RoomKeys } from './redis-keys.ts';

export interface RoomIdentity {
  /** The Fernet key text every member of the room gets. */
  roomKey: string;
  /** Changes only when Redis lost the room and a node restored it. */
  epoch: string;
}

/** The room's key and epoch, created now if this node is the first. */
export async function ensureRoom(
  link: ClusterLink,
  keys: RoomKeys,
  proposal: RoomIdentity = { roomKey: Fernet.generateKey(), epoch: newEpoch() },
): Promise<RoomIdentity> {
  const [roomKey, epoch] = (await link.run(
    'ENSURE_ROOM',
    [keys.roomKey, keys.epoch],
    [proposal.roomKey, proposal.epoch],
  )) as [string, string];
  // A key someone wrote by hand must still be a Fernet key: fail at start-up, not at the first join.
  new Fernet(roomKey);
  return { roomKey, epoch };
}

export function newEpoch(): string {
  return randomBytes(9).toString('base64url');
}
