/**
 * The run-wide context: what the scenarios of one cucumber process share (the target, the test
 * clients' keys, the requirement texts). Opened in BeforeAll and closed in AfterAll, so each
 * parallel worker gets its own spawned or embedded server (a running server is shared by all of them).
 */

import { openTarget, type Target } from '../../server-under-test/index.ts';
import { loadRequirements, type Requirement } from '../requirements.ts';
import { type ConformanceWorldParameters, sharedOpenTarget } from '../world-parameters.ts';
import { ClientKeys } from './client-keys.ts';
import { Prerequisites } from './prerequisites.ts';

export class RunContext {
  #lastFeatureUri: string | undefined;
  #scenarioCount = 0;
  #restartDue = false;
  /** Connecting and joining, which most scenarios need: broken ones end those scenarios at once. */
  readonly prerequisites = new Prerequisites();

  constructor(
    readonly parameters: ConformanceWorldParameters,
    readonly target: Target,
    /** Whether this context opened the target (and must close it) or borrowed the runner's. */
    private readonly ownsTarget: boolean,
    readonly keys: ClientKeys,
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

let current: RunContext | undefined;

export function runContext(): RunContext {
  if (!current) throw new Error('no conformance run context: BeforeAll did not run');
  return current;
}

export async function openRunContext(parameters: ConformanceWorldParameters): Promise<RunContext> {
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
  const keys = await ClientKeys.create(parameters.keyPoolSize);
  current = new RunContext(parameters, target, owns, keys, requirements);
  return current;
}

export async function closeRunContext(): Promise<void> {
  const closing = current;
  current = undefined;
  await closing?.close();
}
