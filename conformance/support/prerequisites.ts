/**
 * Fail fast: what most scenarios need before they check anything (connecting, being admitted with
 * the room key, a room whose members all know each other). When a server cannot do it, every
 * scenario that needs it would otherwise wait out the same timeout; once it has failed in two
 * scenarios and never succeeded in this run, the later scenarios that need it end at once, blocked
 * by it. A prerequisite that worked once is never blocked: its failures are then the scenario's own
 * (a 4096-bit key, a third member), and each such scenario is judged in full. Scenarios that do not
 * need it run as before. Per process: a parallel worker finds out for itself.
 */

/** What scenarios need before they can check anything. */
export type Prerequisite = 'connecting' | 'being admitted' | 'joining the room';

/** Failures in this many scenarios, with never a success, make a prerequisite broken. */
const FAILURES_TO_BLOCK = 2;

/** The first line of a blocked scenario's failure, which the reports recognise. */
export const BLOCKED_PREFIX = 'blocked: ';

/** A scenario that was not run because a prerequisite it needs is broken. */
export class BlockedScenario extends Error {
  override readonly name = 'BlockedScenario';
  constructor(message: string) {
    super(message);
    this.stack = undefined;
  }
}

export class Prerequisites {
  /** Per prerequisite that never succeeded, the scenarios it failed in. */
  readonly #failedIn = new Map<Prerequisite, string[]>();
  readonly #succeeded = new Set<Prerequisite>();

  /**
   * Runs `attempt` (the steps that establish `prerequisite`) for `scenario`, unless the
   * prerequisite is broken: then the scenario ends at once.
   */
  async establish<T>(prerequisite: Prerequisite, scenario: string, attempt: () => Promise<T>): Promise<T> {
    const failedIn = this.#failedIn.get(prerequisite) ?? [];
    if (!this.#succeeded.has(prerequisite) && failedIn.length >= FAILURES_TO_BLOCK) {
      throw new BlockedScenario(
        `${BLOCKED_PREFIX}${prerequisite} failed in scenario ${failedIn.map((name) => `"${name}"`).join(' and ')}; this scenario needs it, so it was not run (see the first of those for why)`,
      );
    }
    try {
      const result = await attempt();
      this.#succeeded.add(prerequisite);
      return result;
    } catch (error) {
      if (!(error instanceof BlockedScenario)) this.#failedIn.set(prerequisite, [...failedIn, scenario]);
      throw error;
    }
  }
}
