/**
 * Reference server nodes that share one room through Redis. The server imports this folder only
 * when it is given `--cluster`, so a single server never loads ioredis.
 *
 *   const room = await openClusterRoom({ url: 'redis://127.0.0.1:6379', room: 'ecp', nodeId: 'a', ... });
 */
import type { Logger } from '../logger.ts';
import type { ServerStats } from '../stats.ts';
import { ClusterRoom, parseSnapshot } from './cluster-room.ts';
import { ClusterLink } from './link.ts';
import { type ResolvedClusterOptions, redactUrl } from './options.ts';
import { roomKeys } from './redis-keys.ts';
import { ensureRoom } from './room-key.ts';

export { ClusterRoom } from './cluster-room.ts';
export { clusterNotices } from './notices.ts';
export { type ClusterOptions, redactUrl, resolveClusterOptions } from './options.ts';

/** A node's lease: survivors remove its members this long after its last heartbeat (plus one beat). */
const LEASE_MS = 3000;
const HEARTBEAT_MS = 1000;
const CONNECT_TIMEOUT_MS = 10_000;
/** Chat waiting for Redis (its link down or slow) before more is refused with a notice. */
const MAX_UNCONFIRMED_BYTES = 8 * 1024 * 1024;

/**
 * Connects to Redis, creates the room (or joins it), removes what a previous run of this node
 * left behind, and starts reading the room log. Rejects if Redis cannot be reached.
 */
export async function openClusterRoom(
  options: ResolvedClusterOptions & { stats: ServerStats; logger: Logger },
): Promise<ClusterRoom> {
  const { logger } = options;
  const link = new ClusterLink(options.url, logger);
  let room: ClusterRoom | undefined;
  try {
    await link.connect(
      {
        onUp: () => room?.onUp(),
        onDown: () => room?.onDown(),
      },
      CONNECT_TIMEOUT_MS,
    );
  } catch (error) {
    throw new Error(`cannot reach Redis at ${redactUrl(options.url)}: ${(error as Error).message}`);
  }
  try {
    const keys = roomKeys(options.room);
    const identity = await ensureRoom(link, keys);
    room = new ClusterRoom({
      link,
      keys,
      nodeId: options.nodeId,
      retention: options.retention,
      maxUnconfirmedBytes: MAX_UNCONFIRMED_BYTES,
      ...identity,
      stats: options.stats,
      logger,
      leaseMs: LEASE_MS,
      heartbeatMs: HEARTBEAT_MS,
    });
    // A previous run of this node id (killed) may still hold members: they go before we serve.
    await room.beatOnce(options.nodeId);
    room.resetTo(
      parseSnapshot(await link.run('SNAPSHOT', [keys.order, keys.owners, keys.log, keys.seq], [])),
    );
    room.start();
    logger.info(
      { room: options.room, redis: redactUrl(options.url), retention: options.retention, users: room.size },
      'cluster room joined',
    );
    return room;
  } catch (error) {
    link.disconnect();
    throw error;
  }
}
