/**
 * The room log's entries as this code sees them. The Lua scripts (scripts.ts) write them as flat
 * field lists; `parseEntry` reads one back. Pure: no Redis here.
 *
 * An owner (`node/instance/n`) names one membership: which node admitted it, which run of that
 * node, and which member of that run. A name can be reused; an owner never is.
 */

export type LogEntry =
  | { kind: 'join'; seq: number; name: string; owner: string }
  | { kind: 'leave'; seq: number; name: string; owner: string }
  /** A member put back after Redis lost the room: already there, so nobody is told it joined. */
  | { kind: 'present'; seq: number; name: string; owner: string }
  | {
      kind: 'chat';
      seq: number;
      name: string;
      owner: string;
      message: string;
      encrypted: boolean;
      /** The publishing node's clock when it sent the message (ms since the epoch). */
      sentAt: number;
      /** Unique per publishing node run: how that node recognises its own message coming back. */
      publishId: string;
    };

/** One entry from its Redis field list; undefined for an entry this version does not know. */
export function parseEntry(fields: string[]): LogEntry | undefined {
  let seq = Number.NaN;
  let kind = '';
  let name = '';
  let owner = '';
  let message = '';
  let encrypted = false;
  let sentAt = 0;
  let publishId = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    switch (fields[i]) {
      case 'seq':
        seq = Number(value);
        break;
      case 'type':
        kind = value;
        break;
      case 'name':
        name = value;
        break;
      case 'owner':
        owner = value;
        break;
      case 'msg':
        message = value;
        break;
      case 'enc':
        encrypted = value === '1';
        break;
      case 't':
        sentAt = Number(value);
        break;
      case 'pid':
        publishId = value;
        break;
    }
  }
  if (!Number.isSafeInteger(seq) || name === '' || owner === '') return undefined;
  if (kind === 'join' || kind === 'leave' || kind === 'present') return { kind, seq, name, owner };
  if (kind === 'chat') return { kind, seq, name, owner, message, encrypted, sentAt, publishId };
  return undefined;
}

/** The node part of an owner. */
export function ownerNode(owner: string): string {
  const slash = owner.indexOf('/');
  return slash === -1 ? owner : owner.slice(0, slash);
}

/** Stream IDs (`ms-seq`) compared as Redis orders them. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return dash === -1 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}
