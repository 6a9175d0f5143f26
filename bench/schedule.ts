/**
 * The open-loop send schedule. `rate` messages per second in total are spread evenly over time and
 * interleaved across the senders: the k-th message of the run (k = 0, 1, 2, ...) is due at
 * `t0 + k / rate` and belongs to sender `k mod senders`, as its sequence number `floor(k / senders)`.
 * A sender that wakes late sends everything that has fallen due (never skipping), and latency is
 * counted from these scheduled times, not from when the message actually left: that is what keeps
 * a stalled server from hiding its stall (coordinated omission).
 * Times are microseconds on the process-wide monotonic clock (see clock.ts).
 */
export interface Schedule {
  /** When message 0 is due. */
  startMicros: number;
  /** Messages per second, all senders together; > 0. */
  rate: number;
  senders: number;
  /** No message is scheduled at or after this time. */
  endMicros: number;
}

/** When `sender`'s message number `seq` is due. */
export function scheduledAt(schedule: Schedule, sender: number, seq: number): number {
  return schedule.startMicros + ((seq * schedule.senders + sender) * 1e6) / schedule.rate;
}

/** How many of `sender`'s messages are due at `nowMicros` (capped at the end of the schedule). */
export function dueCount(schedule: Schedule, sender: number, nowMicros: number): number {
  const due = countBelow(schedule, sender, ((nowMicros - schedule.startMicros) * schedule.rate) / 1e6, true);
  return Math.min(due, totalCount(schedule, sender));
}

/** How many messages `sender` sends over the whole schedule. */
export function totalCount(schedule: Schedule, sender: number): number {
  return countBelow(
    schedule,
    sender,
    ((schedule.endMicros - schedule.startMicros) * schedule.rate) / 1e6,
    false,
  );
}

/** When `sender`'s next message after the first `sent` ones is due, or undefined when it has none left. */
export function nextDueAt(schedule: Schedule, sender: number, sent: number): number | undefined {
  return sent < totalCount(schedule, sender) ? scheduledAt(schedule, sender, sent) : undefined;
}

/**
 * The number of q >= 0 with q * senders + sender below `k` (or at most `k` when `inclusive`).
 * A relative epsilon absorbs floating-point error when k lands exactly on a message.
 */
function countBelow(schedule: Schedule, sender: number, k: number, inclusive: boolean): number {
  const span = k - sender;
  const epsilon = 1e-12 * Math.max(1, Math.abs(k));
  if (inclusive) return span < -epsilon ? 0 : Math.floor(span / schedule.senders + epsilon) + 1;
  return span <= epsilon ? 0 : Math.ceil(span / schedule.senders - epsilon);
}
