/**
 * What the scenarios of one cucumber process share: the target, the key pool, the requirement
 * texts. Opened in BeforeAll and closed in AfterAll, so each parallel worker gets its own spawned or
 * embedded server (a running server is shared by all of them).
 */

import { openTarget, type Target } from '../../server-under-test/index.ts';
import { loadRequirements, type Requirement } from '../requirements.ts';
import { type ConformanceWorldParameters, sharedOpenTarget } from '../world-parameters.ts';
import { KeyPool } from './key-pool.ts';

export class Session {
  #lastFeatureUri: string | undefined;
  #scenarioCount = 0;
  #restartDue = false;

  constructor(
    readonly parameters: ConformanceWorldParameters,
    readonly target: Target,
    /** Whether this session opened the target (and must close it) or borrowed the runner's. */
    private readonly ownsTarget: boolean,
    readonly keys: KeyPool,
    readonly requirements: ReadonlyMap<string, Requirement>,
  ) {}

  /** A name part unique to this run, worker and scenario, e.g. `q7x1.12`: usernames end with it. */
  nextScenarioTag(): string {
    this.#scenarioCount += 1;
    const worker = process.env.CUCUMBER_WORKER_ID;
    return `${this.parameters.runId}${worker === undefined ? '' : `w${worker}`}.${this.#scenarioCount}`;
  }

  /** A scenario stopped the server: start it again before the next one, whatever the policy. */
  restartBeforeNextScenario(): void {
    this.#restartDue = true;
  }

  /** Restarts the target when the restart policy says so; a running target is never restarted. */
  async beforeScenario(featureUri: string): Promise<void> {
    const { restart } = this.parameters;
    const newFeature = this.#lastFeatureUri !== undefined && this.#lastFeatureUri !== featureUri;
    const first = this.#scenarioCount === 0;
    this.#lastFeatureUri = featureUri;
    if (!this.target.canRestart) return;
    const due =
      this.#restartDue || (!first && (restart === 'scenario' || (restart === 'feature' && newFeature)));
    this.#restartDue = false;
    if (due) await this.target.restart();
  }

  async close(): Promise<void> {
    if (this.ownsTarget) await this.target.close();
  }
}

let current: Session | undefined;

export function session(): Session {
  if (!current) throw new Error('no conformance session: BeforeAll did not run');
  return current;
}

export async function openSession(parameters: ConformanceWorldParameters): Promise<Session> {
  let target: Target;
  let owns: boolean;
  if ('ref' in parameters.target) {
    const shared = sharedOpenTarget(parameters.target.ref);
    if (!shared) throw new Error(`target ${parameters.target.ref} is not open in this process`);
    target = shared;
    owns = false;
  } else {
    target = await openTarget(parameters.target.spec);
    owns = true;
  }
  const requirements = new Map(loadRequirements(parameters.requirementsPath).map((item) => [item.id, item]));
  const keys = await KeyPool.create(parameters.keyPoolSize);
  current = new Session(parameters, target, owns, keys, requirements);
  return current;
}

export async function closeSession(): Promise<void> {
  const closing = current;
  current = undefined;
  await closing?.close();
}
