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
import { KIT_ROOT, RUNS_COMPILED } from './kit-files.ts';
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

const FEATURES = 'features/**/*.feature';
/**
 * The step definitions, relative to the kit's root. From a clone, the TypeScript ones, behind the
 * loader that registers tsx in every process that imports them; in the package, the compiled ones.
 */
const SUPPORT = RUNS_COMPILED
  ? ['dist/conformance/support/**/*.js']
  : ['conformance/tsx-loader.mjs', 'conformance/support/**/*.ts'];

export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_KEY_POOL_SIZE = 16;

export interface ConformanceOptions extends ScenarioSelection {
  target: TargetSpec;
  /** Folders (or files) of more `.feature` files to run with the kit's, using its steps. */
  features?: string[];
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
  target: { kind: TargetSpec['kind']; description: string };
  profile: ProfileSelection;
  tags: string | undefined;
  /** `--lab N`, `--only` and `--section`, as given. */
  lab?: number;
  onlyLab?: boolean;
  sections?: string[];
  limits: Limits;
  timeoutMs: number;
  /** The seed of the run's random inputs: `--seed` replays them. */
  seed: number;
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
let supportLibrary: ISupportCodeLibrary | undefined;

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
      runId: randomBytes(3)
        .toString('base64url')
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x'),
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
  selection: ProfileSelection | (ScenarioSelection & { features?: string[] }) = 'all',
  tags?: string,
): Promise<PlannedScenario[]> {
  const chosen =
    typeof selection === 'string' ? { profile: selection, ...(tags ? { tags } : {}) } : selection;
  const collector = new ResultCollector();
  await runFeatures(
    {
      paths: featurePaths('features' in chosen ? chosen.features : undefined),
      tags: selectionExpression(chosen),
      dryRun: true,
    },
    collector.onMessage,
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
export function featurePaths(extra: readonly string[] = []): string[] {
  return [
    FEATURES,
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
  if (spec.kind === 'running' && !(await canConnect(target.endpoint, 3000))) {
    throw new TargetUnavailableError(
      `nothing accepts connections at ${formatEndpoint(target.endpoint)}; is the server running?`,
    );
  }
  return target;
}

function reportFormats(outDir: string): [string, string][] {
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

async function runFeatures(
  provided: Record<string, unknown>,
  onMessage: (envelope: Envelope) => void,
): Promise<void> {
  const environment = runEnvironment();
  // Loaded here, on first use: cucumber takes about 0.2 s and 15 MB to load, which every other
  // `ecp` command, the server included, would otherwise pay at start.
  const { loadConfiguration, runCucumber } = await import('@cucumber/cucumber/api');
  const { runConfiguration } = await loadConfiguration(
    { file: false, provided: { paths: [FEATURES], import: SUPPORT, strict: true, ...provided } },
    environment,
  );
  const { support } = await runCucumber(
    { ...runConfiguration, support: supportLibrary ?? runConfiguration.support },
    environment,
    onMessage,
  );
  supportLibrary = support;
}
