/**
 * The shortest slow-reader timeout the kit can judge its burst scenarios against on a busy machine.
 *
 * In a burst (ECP-LIM-07 and 08) a server may rightly cut a member whose output has not drained
 * for its slow-reader timeout. While the kit's own event loop stalls, none of its members reads;
 * so when a server cuts a member after the kit stalled for half that timeout or more, the kit
 * cannot tell a starved kit from a slow reader and reports the scenario as not judged
 * (limits.steps.ts). On the kit's 2-core development machine, grading four servers at a time
 * while the load average stood between 10 and 23, the kit's longest stall in a burst was 0.2 to
 * 0.3 s in the median and at most 0.8 s, and a server on that machine may itself go without a
 * core long enough to miss a 1 s deadline (docs/grading.md, "Repeatability"): 1 s is at the edge,
 * 3 s leaves room. A correct server's burst takes no longer with a longer timeout; only the
 * scenarios with a member that stopped reading wait it out, about 2 s more each.
 */
import type { Limits } from '../protocol/index.ts';

export const JUDGEABLE_SLOW_READER_TIMEOUT_MS = 3_000;

/** Why a declared slow-reader timeout is too short to grade with, or undefined when it is not. */
export function slowReaderTimeoutWarning(limits: Pick<Limits, 'slowReaderTimeoutMs'>): string | undefined {
  if (limits.slowReaderTimeoutMs >= JUDGEABLE_SLOW_READER_TIMEOUT_MS) return undefined;
  return `a slow-reader timeout of ${limits.slowReaderTimeoutMs} ms is below the ${JUDGEABLE_SLOW_READER_TIMEOUT_MS} ms the kit can judge bursts against on a busy machine: a burst the server cuts a member in while the kit itself stalled is reported as not judged (ECP-LIM-07, ECP-LIM-08), so identical servers can get different rows. Start servers with --slow-reader-timeout-ms ${JUDGEABLE_SLOW_READER_TIMEOUT_MS} or more`;
}
