/**
 * Runs the features against a target through cucumber's API and collects one result per scenario.
 * Cucumber writes the HTML and JUnit reports itself; everything else is built from the results.
 *
 * Serial runs share the target this process opened with the support code (it may be an
 * in-process server that cannot travel as JSON, e.g. a test fixture). Parallel runs hand each
 * worker the target's JSON spec, and each worker starts its own server.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { IRunEnvironment, ISupportCodeLibrary } from '@cucumber/cucumber/api';
import type { Envelope } from '@cucumber/messages';
import { DEFAULT_LIMITS, type Limits } from '../protocol/index.ts';
import { openTarget, type Target, type TargetSpec } from '../server-under-test/index.ts';
import { canConnect, formatEndpoint } from '../transport/index.ts';
import { takeFailedScenarioEnd } from './failed-scenario-end.ts';
import { KIT_ROOT, RUNS_COMPILED } from './kit-files.ts';
import { checkPassword } from './password-check.ts';
import type { ProfileSelection } from './profiles.ts';
import { PROTOCOL_DOC_PATH } from './requirements.ts';
import { ResultCollector, type ScenarioResult } from './results.ts';
import { type ScenarioSelection, selectionExpression } from './selection.ts';
import { randomSeed } from './support/seeded-bytes.ts';
import {
  type ConformanceWorldParameters,
  type RestartPolicy,
  shareOpenTarget,
  type TargetReference,
  unshareOpenTarget,
} from './world-parameters.ts';

/** Which party the features check: the server's are at the top of features/, the client's below it. */
export type Party = 'server' | 'client';

const FEATURES: Record<Party, string> = {
  server: 'features/*.feature',
  client: 'features/client/*.feature',
};
/**
 * The step definitions of each party, relative to the kit's root. From a clone, the TypeScript
 * ones, behind the loader that registers tsx in every process that imports them; in the package,
 * the compiled ones.
 */
const SUPPORT_FOLDER: Record<Party, string> = {
  server: 'conformance/support',
  client: 'conformance/client-support',
};
function supportPaths(party: Party): string[] {
  return RUNS_COMPILED
    ? [`dist/${SUPPORT_FOLDER[party]}/**/*.js`]
    : ['conformance/tsx-loader.mjs', `${SUPPORT_FOLDER[party]}/**/*.ts`];
}

export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_KEY_POOL_SIZE = 16;

export interface ConformanceOptions extends ScenarioSelection {
  target: TargetSpec;
  /** Folders (or files) of more `.feature` files to run with the kit's, using its steps. */
  features?: string[];
  /**
   * Before the scenarios, check with one handshake that the server does not refuse the kit's
   * password (PasswordRefusedError if it does). For people at the command line.
   */
  checkPassword?: boolean;
  /** Stop at the first scenario that fails (used to score mutants). */
  failFast?: boolean;
  /** Only scenarios whose name matches one of these regular expressions. */
  names?: string[];
  /** Only these scenarios, by location (`features/chat.feature:12`, as results report them). */
  locations?: string[];
  /** How long each expectation waits. */
  timeoutMs?: number;
  /** The target's limits where they differ from the specification's defaults. */
  limits?: Partial<Limits>;
  restart?: RestartPolicy;
  /** Worker processes; 1 or less runs in this process. */
  parallel?: number;
  /** Where cucumber writes `cucumber.html` and `junit.xml`; none when undefined. */
  outDir?: string;
  /** Called as each scenario finishes, for progress output. */
  onScenario?: (result: ScenarioResult) => void;
  keyPoolSize?: number;
  /** Feeds every random input the scenarios send; random (and reported) when not given. */
  seed?: number;
}

export interface ConformanceRun {
  target: { kind: TargetSpec['kind'] | 'client'; description: string };
  profile: ProfileSelection;
  tags: string | undefined;
  /** `--lab N`, `--only` and `--section`, as given. */
  lab?: number;
  onlyLab?: boolean;
  sections?: string[];
  limits: Limits;
  timeoutMs: number;
  /** The seed of the run's random inputs: `--seed` replays them. Undefined where no input is random (the client scenarios). */
  seed?: number;
  startedAt: Date;
  durationMs: number;
  scenarios: ScenarioResult[];
}

/** The target could not be started or reached: nothing was tested. */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
  /** What a spawned server printed before it failed, if anything. */
  readonly output: string;
  constructor(message: string, output = '') {
    super(message);
    this.output = output;
  }
}

/** Support code can be imported once per process (ES modules are cached): later runs reuse it. */
const supportLibraries = new Map<Party, ISupportCodeLibrary>();

export async function runConformance(options: ConformanceOptions): Promise<ConformanceRun> {
  const profile = options.profile ?? 'all';
  // Before anything starts: a lab or section that does not exist is a usage error.
  const expression = selectionExpression(options);
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const parallel = options.parallel ?? 1;
  const seed = options.seed ?? randomSeed();
  if (parallel > 1 && options.target.kind === 'running') {
    throw new RangeError('--parallel needs a server the kit starts (embedded or --spawn), one per worker');
  }
  if (parallel > 1 && options.target.kind === 'embedded' && options.target.start) {
    throw new RangeError('--parallel cannot run a custom in-process server; run it serially');
  }

  const target = await openReachableTarget(options.target);
  const runId = randomBytes(3)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');
  if (options.checkPassword) {
    try {
      await checkPassword(target, timeoutMs, `kit-${runId}`);
    } catch (error) {
      await target.close();
      throw error;
    }
  }
  const startedAt = new Date();
  let reference: TargetReference;
  if (parallel > 1) {
    // Each worker opens its own; this one only proved that the server starts.
    await target.close();
    reference = { spec: options.target };
  } else {
    reference = shareOpenTarget(target);
  }
  const collector = new ResultCollector(options.onScenario);
  try {
    const parameters: ConformanceWorldParameters = {
      target: reference,
      restart: options.restart ?? 'none',
      timeoutMs,
      limits,
      runId,
      requirementsPath: PROTOCOL_DOC_PATH,
      keyPoolSize: options.keyPoolSize ?? DEFAULT_KEY_POOL_SIZE,
      seed,
    };
    await runFeatures(
      {
        paths: options.locations ?? featurePaths(options.features),
        tags: expression,
        name: options.names ?? [],
        failFast: options.failFast ?? false,
        worldParameters: parameters,
        parallel: parallel > 1 ? parallel : 0,
        format: options.outDir ? reportFormats(resolve(options.outDir)) : [],
        formatOptions: { junit: { suiteName: 'ECP conformance' } },
      },
      collector.onMessage,
    );
  } finally {
    if ('ref' in reference) unshareOpenTarget(reference.ref);
    await target.close();
    const failedEnd = takeFailedScenarioEnd(runId);
    if (failedEnd !== undefined && parallel <= 1) {
      // Stopped: everything the server wrote is in its output now.
      collector.addOutputAfterLast(target.outputBetween(failedEnd, await target.settleOutput()));
    }
  }
  return {
    target: { kind: target.kind, description: target.description },
    profile,
    tags: options.tags,
    ...(options.lab !== undefined ? { lab: options.lab, onlyLab: options.onlyLab ?? false } : {}),
    ...(options.sections?.length ? { sections: [...options.sections] } : {}),
    limits,
    timeoutMs,
    seed,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    scenarios: collector.results,
  };
}

export interface PlannedScenario {
  location: string;
  feature: string;
  name: string;
  profile: ScenarioResult['profile'];
  requirements: string[];
  /** Every `@lab-N` the scenario carries (the kit's carry exactly one). */
  labs: number[];
  tags: string[];
  steps: string[];
  /** False when a step has no definition in the kit (or more than one). */
  defined: boolean;
}

/**
 * The scenarios a selection picks, without running them (a cucumber dry run): a profile and tag
 * expression, or a whole selection with extra feature folders.
 */
export async function planScenarios(
  selection: ProfileSelection | (ScenarioSelection & { features?: string[]; party?: Party }) = 'all',
  tags?: string,
): Promise<PlannedScenario[]> {
  const chosen =
    typeof selection === 'string' ? { profile: selection, ...(tags ? { tags } : {}) } : selection;
  const party = ('party' in chosen ? chosen.party : undefined) ?? 'server';
  const collector = new ResultCollector();
  await runFeatures(
    {
      paths: featurePaths('features' in chosen ? chosen.features : undefined, party),
      tags: selectionExpression(chosen),
      dryRun: true,
    },
    collector.onMessage,
    party,
  );
  return collector.results.map(
    ({ location, feature, name, profile, requirements, labs, tags: scenarioTags, steps, status }) => ({
      location,
      feature,
      name,
      profile,
      requirements,
      labs,
      tags: scenarioTags,
      steps,
      defined: status !== 'undefined' && status !== 'ambiguous',
    }),
  );
}

/** The kit's features, and an instructor's: each extra folder's `.feature` files, or a file as given. */
export function featurePaths(extra: readonly string[] = [], party: Party = 'server'): string[] {
  return [
    FEATURES[party],
    ...extra.map((path) => {
      const absolute = resolve(path);
      return absolute.endsWith('.feature') ? absolute : join(absolute, '**', '*.feature');
    }),
  ];
}

async function openReachableTarget(spec: TargetSpec): Promise<Target> {
  let target: Target;
  try {
    target = await openTarget(spec);
  } catch (error) {
    const output = (error as { output?: unknown }).output;
    throw new TargetUnavailableError((error as Error).message, typeof output === 'string' ? output : '');
  }
  if (spec.kind === 'running') {
    for (const endpoint of target.endpoints) {
      if (!(await canConnect(endpoint, 3000))) {
        throw new TargetUnavailableError(
          `nothing accepts connections at ${formatEndpoint(endpoint)}; is the server running?`,
        );
      }
    }
  }
  return target;
}

export function reportFormats(outDir: string): [string, string][] {
  return [
    ['html', join(outDir, 'cucumber.html')],
    ['junit', join(outDir, 'junit.xml')],
  ];
}

/**
 * Cucumber's messages for a dry run of the kit's features (and `features`, an instructor's):
 * step definitions, parameter types, pickles and which definition each step uses.
 */
export async function dryRunMessages(
  onMessage: (envelope: Envelope) => void,
  features?: readonly string[],
): Promise<void> {
  await runFeatures({ paths: featurePaths(features), dryRun: true }, onMessage);
}

function runEnvironment(): IRunEnvironment {
  return {
    // Cucumber resolves features and support code from here, wherever `ecp` runs.
    cwd: KIT_ROOT,
    // Cucumber's own console output is replaced by ours (built from the same messages).
    stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
    stderr: process.stderr,
    env: { ...process.env, CUCUMBER_PUBLISH_QUIET: 'true' },
  };
}

export async function runFeatures(
  provided: Record<string, unknown>,
  onMessage: (envelope: Envelope) => void,
  party: Party = 'server',
): Promise<void> {
  const environment = runEnvironment();
  // Loaded here, on first use: cucumber takes about 0.2 s and 15 MB to load, which every other
  // `ecp` command, the server included, would otherwise pay at start.
  const { loadConfiguration, runCucumber } = await import('@cucumber/cucumber/api');
  const { runConfiguration } = await loadConfiguration(
    {
      file: false,
      provided: { paths: [FEATURES[party]], import: supportPaths(party), strict: true, ...provided },
    },
    environment,
  );
  const { support } = await runCucumber(
    { ...runConfiguration, support: supportLibraries.get(party) ?? runConfiguration.support },
    environment,
    onMessage,
  );
  supportLibraries.set(party, support);
}
