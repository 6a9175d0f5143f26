/**
 * Runs the client features (features/client/) against a client under test: the kit plays the
 * room, one fresh room and one run of the client per scenario. The results have the shape of a
 * server run's, so every report is the same.
 */
import { resolve } from 'node:path';
import { DEFAULT_LIMITS } from '../protocol/index.ts';
import type { TransportName } from '../transport/index.ts';
import type { ClientOutput, ClientWorldParameters } from './client-support/client-parameters.ts';
import { PROTOCOL_DOC_PATH } from './requirements.ts';
import { ResultCollector, type ScenarioResult } from './results.ts';
import { type ConformanceRun, featurePaths, reportFormats, runFeatures } from './runner.ts';
import { type ScenarioSelection, selectionExpression } from './selection.ts';

/** How long a client may take to start and connect: tsx, a JVM or a Python import can be slow. */
export const DEFAULT_CLIENT_START_TIMEOUT_MS = 20_000;
/** Client scenarios wait for a whole process to react, not for a server next door. */
export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;

/** The placeholders a client command may use. */
export const CLIENT_PLACEHOLDERS = ['{url}', '{host}', '{port}', '{username}', '{password}', '{ca}'] as const;

export interface ClientConformanceOptions extends ScenarioSelection {
  /** The client's command line, with placeholders. */
  command: string;
  output: ClientOutput;
  transport: TransportName;
  timeoutMs?: number;
  startTimeoutMs?: number;
  /** Only these scenarios, by location. */
  locations?: string[];
  /** Only scenarios whose name matches one of these regular expressions. */
  names?: string[];
  /** Stop at the first scenario that fails (scoring faulty clients). */
  failFast?: boolean;
  outDir?: string;
  onScenario?: (result: ScenarioResult) => void;
}

export async function runClientConformance(options: ClientConformanceOptions): Promise<ConformanceRun> {
  const expression = selectionExpression(options);
  if (options.command.includes('{ca}') && options.transport !== 'tls' && options.transport !== 'wss') {
    throw new RangeError('{ca} is for a client run over --transport tls or wss');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
  const parameters: ClientWorldParameters = {
    command: options.command,
    output: options.output,
    transport: options.transport,
    timeoutMs,
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_CLIENT_START_TIMEOUT_MS,
    requirementsPath: PROTOCOL_DOC_PATH,
  };
  const collector = new ResultCollector(options.onScenario);
  const startedAt = new Date();
  await runFeatures(
    {
      paths: options.locations ?? featurePaths([], 'client'),
      tags: expression,
      name: options.names ?? [],
      failFast: options.failFast ?? false,
      worldParameters: parameters,
      format: options.outDir ? reportFormats(resolve(options.outDir)) : [],
      formatOptions: { junit: { suiteName: 'ECP client conformance' } },
    },
    collector.onMessage,
    'client',
  );
  return {
    target: {
      kind: 'client',
      description: `${options.command} (the kit's room on ${options.transport}://, output ${options.output})`,
    },
    profile: options.profile ?? 'all',
    tags: options.tags,
    ...(options.lab !== undefined ? { lab: options.lab, onlyLab: options.onlyLab ?? false } : {}),
    ...(options.sections?.length ? { sections: [...options.sections] } : {}),
    limits: { ...DEFAULT_LIMITS },
    timeoutMs,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    scenarios: collector.results,
  };
}
