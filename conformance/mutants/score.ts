/**
 * `ecp conformance --mutants`: how good is a set of scenarios (the kit's, an instructor's, a lab's)?
 * Run it against each faulty server and count the faults it detects. The same scenarios must first
 * pass against the reference server, or a "detection" would only be a broken scenario.
 * Each mutant run stops at its first failing scenario.
 */
import type { Limits } from '../../protocol/index.ts';
import { type ConformanceRun, runConformance } from '../runner.ts';
import type { ScenarioSelection } from '../selection.ts';
import { MUTANTS, type Mutant, mutantSlug } from './catalogue.ts';
import { FaultProxy } from './fault-proxy.ts';

export const MUTATION_SCHEMA = 'ecp-mutants/1';

export interface MutationOptions extends ScenarioSelection {
  features?: string[];
  password: string;
  /** The limits the embedded servers run with (short ones keep the run fast). */
  limits: Partial<Limits>;
  timeoutMs: number;
  /** Only these mutants (default: every one). */
  mutants?: readonly Mutant[];
  onBaseline?: (run: ConformanceRun) => void;
  onMutant?: (score: MutantScore) => void;
}

export interface MutantScore {
  /** Its number in `ecp mutant list`. */
  number: number;
  name: string;
  slug: string;
  fault: string;
  detected: boolean;
  /** The first scenario that failed against it. */
  detectedBy: { name: string; location: string; requirements: string[] } | null;
  durationMs: number;
}

export interface MutationReport {
  schema: typeof MUTATION_SCHEMA;
  /** Scenarios selected. */
  scenarios: number;
  /** Scenarios that failed against the reference server: when any did, no mutant was run. */
  baselineFailures: { name: string; location: string }[];
  mutants: MutantScore[];
  detected: number;
  total: number;
  durationMs: number;
}

export async function scoreMutants(options: MutationOptions): Promise<MutationReport> {
  const startedAt = Date.now();
  const {
    features,
    password,
    limits,
    timeoutMs,
    mutants = MUTANTS,
    onBaseline,
    onMutant,
    ...selection
  } = options;
  const common = { ...selection, ...(features ? { features } : {}), limits, timeoutMs };
  const baseline = await runConformance({ target: { kind: 'embedded', password, limits }, ...common });
  onBaseline?.(baseline);
  const report: MutationReport = {
    schema: MUTATION_SCHEMA,
    scenarios: baseline.scenarios.length,
    baselineFailures: baseline.scenarios
      .filter((result) => result.status !== 'passed' && result.status !== 'skipped')
      .map(({ name, location }) => ({ name, location })),
    mutants: [],
    detected: 0,
    total: mutants.length,
    durationMs: 0,
  };
  if (report.baselineFailures.length > 0 || report.scenarios === 0) {
    report.durationMs = Date.now() - startedAt;
    return report;
  }
  for (const mutant of mutants) {
    const run = await runConformance({
      target: {
        kind: 'embedded',
        password,
        limits,
        start: FaultProxy.starter(mutant.build),
        label: `mutant ${MUTANTS.indexOf(mutant) + 1}`,
      },
      ...common,
      failFast: true,
    });
    const failed = run.scenarios.find((result) => result.status !== 'passed' && result.status !== 'skipped');
    const score: MutantScore = {
      number: MUTANTS.indexOf(mutant) + 1,
      name: mutant.name,
      slug: mutantSlug(mutant),
      fault: mutant.fault,
      detected: failed !== undefined,
      detectedBy: failed
        ? { name: failed.name, location: failed.location, requirements: failed.requirements }
        : null,
      durationMs: run.durationMs,
    };
    report.mutants.push(score);
    if (score.detected) report.detected++;
    onMutant?.(score);
  }
  report.durationMs = Date.now() - startedAt;
  return report;
}
