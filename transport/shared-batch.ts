/**
 * One Buffer for a batch of lines, shared by every connection that writes the same batch. A room's
 * broadcast queues the same lines, in the same order, for every member during a turn, and the
 * members' outboxes are flushed one after the other: the second to the hundredth member get the
 * Buffer the first one's batch was joined into, instead of a copy each. That saves a copy of the
 * turn's output per member (CPU) and, as each copy lives until the kernel has taken it, most of
 * the server's output memory.
 */

let lastParts: readonly Buffer[] = [];
let lastJoined: Buffer | undefined;

/** `parts` joined into one Buffer (`bytes` long); never modify it, other connections may hold it. */
export function joinShared(parts: readonly Buffer[], bytes: number): Buffer {
  const count = parts.length;
  if (lastJoined !== undefined && lastParts.length === count && lastJoined.length === bytes) {
    // The same Buffers in the same order: the same bytes. Comparing references costs a few
    // nanoseconds a line; the copy it saves costs one per byte.
    let same = true;
    for (let i = 0; i < count; i++) {
      if (parts[i] !== lastParts[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastJoined;
  }
  const joined = Buffer.concat(parts as Buffer[], bytes);
  // A copy of the list: the caller may reuse its array. It and the joined Buffer are held until
  // the next batch that differs (at most one batch's bytes).
  lastParts = parts.slice();
  lastJoined = joined;
  return joined;
}
