/**
 * What `--cluster` and its companions mean, checked. Kept apart from the rest of the folder so the
 * server can check them without loading ioredis.
 */
import { hostname } from 'node:os';
import { isClusterId } from './redis-keys.ts';

export interface ClusterOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: string;
  /** The room's name: nodes with the same Redis and room serve one room. Default `ecp`. */
  room?: string;
  /** This node's id, the same across restarts so a restart removes its previous members at once. Default: host name and process id. */
  nodeId?: string;
  /** Log entries Redis keeps: how far a node may fall behind and still deliver everything. Default 10000. */
  retention?: number;
}

export const DEFAULT_ROOM = 'ecp';
export const DEFAULT_RETENTION = 10_000;
/** Trimming with `~` works in blocks of about 100 entries; fewer would not be kept anyway. */
export const MIN_RETENTION = 100;

export type ResolvedClusterOptions = Required<ClusterOptions>;
/** Settings checked: what was given, with defaults. Throws an Error saying which is wrong. */
export function resolveClusterOptions(options: ClusterOptions): ResolvedClusterOptions {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new Error(`cluster URL is not a URL: ${options.url}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`cluster URL must start with redis:// or rediss://, got ${options.url}`);
  }
  const room = options.room ?? DEFAULT_ROOM;
  if (!isClusterId(room)) throw new Error(`room name must be 1-64 of A-Z a-z 0-9 _ . -, got ${room}`);
  const nodeId =
    options.nodeId ??
    `${hostname()
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 50)}-${process.pid}`;
  if (!isClusterId(nodeId)) throw new Error(`node id must be 1-64 of A-Z a-z 0-9 _ . -, got ${nodeId}`);
  const retention = options.retention ?? DEFAULT_RETENTION;
  if (!Number.isSafeInteger(retention) || retention < MIN_RETENTION) {
    throw new Error(`cluster retention must be an integer >= ${MIN_RETENTION}, got ${String(retention)}`);
  }
  return { url: options.url, room, nodeId, retention };
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
