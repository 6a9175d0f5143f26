/**
 * The room log's entries as this code sees them. The Lua scripts (scripts.ts) write them as flat
 * field lists (`seq N type join name NAME owner OWNER`; a chat, the hot path, packs all but its
 * payload in one field: `seq N c HEAD m MESSAGE`); `parseEntry` reads one back. Pure: no Redis here.
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

/** The `c` field of a chat entry: everything but the payload, in one string. */
export function chatHead(entry: {
  encrypted: boolean;
  sentAt: number;
  publishId: string;
  owner: string;
  name: string;
}): string {
  return `${entry.encrypted ? 1 : 0}|${entry.sentAt}|${entry.publishId}|${entry.owner}|${entry.name}`;
}

/** One entry from its Redis field list; undefined for an entry this version does not know. */
export function parseEntry(fields: string[]): LogEntry | undefined {
  if (fields.length === 6 && fields[2] === 'c' && fields[4] === 'm') return parseChat(fields);
  let seq = Number.NaN;
  let kind = '';
  let name = '';
  let owner = '';
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
    }
  }
  if (!Number.isSafeInteger(seq) || name === '' || owner === '') return undefined;
  if (kind === 'join' || kind === 'leave' || kind === 'present') return { kind, seq, name, owner };
  return undefined;
}

/** `seq S c HEAD m MESSAGE`; the name comes last in the head, so it may hold any character. */
function parseChat(fields: string[]): LogEntry | undefined {
  const seq = Number(fields[1]);
  const head = fields[3]!;
  const first = head.indexOf('|');
  const second = head.indexOf('|', first + 1);
  const third = head.indexOf('|', second + 1);
  const fourth = head.indexOf('|', third + 1);
  if (!Number.isSafeInteger(seq) || first === -1 || second === -1 || third === -1 || fourth === -1) {
    return undefined;
  }
  const name = head.slice(fourth + 1);
  if (name === '') return undefined;
  return {
    kind: 'chat',
    seq,
    name,
    owner: head.slice(third + 1, fourth),
    message: fields[5]!,
    encrypted: head.slice(0, first) === '1',
    sentAt: Number(head.slice(first + 1, second)),
    publishId: head.slice(second + 1, third),
  };
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
