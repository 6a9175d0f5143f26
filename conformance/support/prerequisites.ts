/**
 * Fail fast: what most scenarios need before they check anything (connecting, joining the room
 * with the room key). When a server cannot do it, every scenario that needs it would otherwise wait
 * out the same timeout; once it has failed in two scenarios in a row (so one unlucky scenario
 * never blocks the rest), the later scenarios that need it end at once, blocked by it. Scenarios
 * that do not need it run as before. Per process: a parallel worker finds out for itself.
 */

/** What scenarios need before they can check anything. */
export type Prerequisite = 'connecting' | 'joining the room';

/** Failures in this many scenarios in a row, with no success in between, make a prerequisite broken. */
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
  /** Per prerequisite, the scenarios it failed in since it last succeeded. */
  readonly #failedIn = new Map<Prerequisite, string[]>();

  /**
   * Runs `attempt` (the steps that establish `prerequisite`) for `scenario`, unless the
   * prerequisite is broken: then the scenario ends at once.
   */
  async establish<T>(prerequisite: Prerequisite, scenario: string, attempt: () => Promise<T>): Promise<T> {
    const failedIn = this.#failedIn.get(prerequisite) ?? [];
    if (failedIn.length >= FAILURES_TO_BLOCK) {
      throw new BlockedScenario(
        `${BLOCKED_PREFIX}${prerequisite} failed in scenario ${failedIn.map((name) => `"${name}"`).join(' and ')}; this scenario needs it, so it was not run (see the first of those for why)`,
      );
    }
    try {
      const result = await attempt();
      this.#failedIn.delete(prerequisite);
      return result;
    } catch (error) {
      if (!(error instanceof BlockedScenario)) this.#failedIn.set(prerequisite, [...failedIn, scenario]);
      throw error;
    }
  }
}
