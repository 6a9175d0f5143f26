/**
 * `ecp bench` as a library: opens the target, runs the bench K times (or once per sweep point)
 * and returns the report.
 */
import { availableParallelism } from 'node:os';
import { openTarget, type TargetSpec } from '../server-under-test/index.ts';
import { canConnect, formatEndpoint } from '../transport/index.ts';
import { clientsPerEndpoint } from './endpoint-spread.ts';
import { keyPool } from './key-pool.ts';
import { machineInfo } from './machine.ts';
import {
  type BenchConfig,
  type BenchReport,
  SCHEMA,
  type SweepParameter,
  type SweepReport,
} from './report-schema.ts';
import { BenchRunError, type RunProgress, runOnce } from './run-once.ts';
import { summarizeRuns } from './summary.ts';
import { LoadWorkerPool } from './worker-pool.ts';

export const TOOL_VERSION = '1.3.0';

export const DEFAULT_CONFIG: BenchConfig = {
  clients: 100,
  senders: 10,
  rate: 0,
  inFlight: 16,
  size: 128,
  durationSeconds: 10,
  warmupSeconds: 2,
  runs: 1,
  workers: Math.min(2, availableParallelism()),
  verify: false,
  sampleEvery: 1000,
  connectConcurrency: 64,
  keyPoolSize: 4,
  drainSeconds: 5,
};

export interface BenchHooks {
  /** A run starts (1-based), of `runs`; `point` names the sweep point, if any. */
  runStarted?: (run: number, runs: number, point?: string) => void;
  progress?: (progress: RunProgress) => void;
  runFinished?: (run: number) => void;
}

/** Checks and completes a configuration: senders at most clients, positive sizes. Throws RangeError. */
export function resolveConfig(partial: Partial<BenchConfig>): BenchConfig {
  const given = Object.fromEntries(
    Object.entries(partial).filter(([, v]) => v !== undefined),
  ) as Partial<BenchConfig>;
  const config = { ...DEFAULT_CONFIG, ...given };
  const positive = (name: keyof BenchConfig, allowZero = false) => {
    const value = config[name] as number;
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      throw new RangeError(
        `--${kebab(name)} must be ${allowZero ? 'zero or more' : 'positive'}, got ${value}`,
      );
    }
  };
  for (const name of [
    'clients',
    'inFlight',
    'durationSeconds',
    'runs',
    'workers',
    'sampleEvery',
    'connectConcurrency',
    'keyPoolSize',
  ] as const) {
    positive(name);
  }
  for (const name of ['rate', 'warmupSeconds', 'drainSeconds', 'size', 'senders'] as const)
    positive(name, true);
  config.clients = Math.floor(config.clients);
  config.senders = Math.min(
    Math.floor(given.senders ?? Math.min(DEFAULT_CONFIG.senders, config.clients)),
    config.clients,
  );
  if (config.senders < 1) throw new RangeError('--senders must be at least 1');
  return config;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace('-seconds', '');
}

export async function runBench(
  spec: TargetSpec,
  partial: Partial<BenchConfig>,
  hooks: BenchHooks = {},
  label: string | null = null,
  point?: string,
): Promise<BenchReport> {
  const config = resolveConfig(partial);
  const target = await openTarget(spec);
  try {
    return await runOnTarget(target, spec.kind, config, hooks, label, point);
  } finally {
    await target.close();
  }
}

async function runOnTarget(
  target: Awaited<ReturnType<typeof openTarget>>,
  kind: TargetSpec['kind'],
  config: BenchConfig,
  hooks: BenchHooks,
  label: string | null,
  point?: string,
): Promise<BenchReport> {
  for (const endpoint of target.endpoints) {
    if (!(await canConnect(endpoint))) {
      throw new BenchRunError(`nothing accepts connections at ${formatEndpoint(endpoint)}`);
    }
  }
  const keys = await keyPool(config.keyPoolSize);
  const pool = new LoadWorkerPool(Math.max(1, Math.min(config.workers, config.clients)));
  const runs = [];
  try {
    for (let run = 1; run <= config.runs; run++) {
      hooks.runStarted?.(run, config.runs, point);
      runs.push(
        await runOnce(
          config,
          {
            endpoints: [...target.endpoints],
            connectOptions: target.connectOptions,
            password: target.password,
            embedded: kind === 'embedded',
          },
          keys,
          run,
          pool,
          hooks.progress,
        ),
      );
      hooks.runFinished?.(run);
    }
  } finally {
    await pool.close();
  }
  return {
    schema: SCHEMA,
    kind: 'single',
    tool: { name: 'ecp bench', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    label,
    machine: machineInfo(),
    target: {
      kind,
      description: target.description,
      transport: target.endpoint.transport,
      ...(target.endpoints.length > 1
        ? { endpoints: clientsPerEndpoint(target.endpoints, config.clients) }
        : {}),
    },
    config,
    runs,
    summary: summarizeRuns(runs),
  };
}

/** One bench per value of `parameter`, on one target (started once). */
export async function runSweep(
  spec: TargetSpec,
  partial: Partial<BenchConfig>,
  parameter: SweepParameter,
  values: number[],
  hooks: BenchHooks = {},
  label: string | null = null,
): Promise<SweepReport> {
  const target = await openTarget(spec);
  try {
    const points = [];
    for (const value of values) {
      const config = resolveConfig({ ...partial, [parameter]: value });
      points.push({
        value,
        report: await runOnTarget(target, spec.kind, config, hooks, label, `${parameter}=${value}`),
      });
    }
    return {
      schema: SCHEMA,
      kind: 'sweep',
      tool: { name: 'ecp bench', version: TOOL_VERSION },
      createdAt: new Date().toISOString(),
      label,
      machine: machineInfo(),
      target: { kind: spec.kind, description: target.description, transport: target.endpoint.transport },
      parameter,
      points,
    };
  } finally {
    await target.close();
  }
}

/** Parses `clients=10,100,500`. Throws RangeError. */
export function parseSweep(text: string): { parameter: SweepParameter; values: number[] } {
  const match = /^(clients|senders|rate|size)=([\d.,\s]+)$/.exec(text.trim());
  const values = match?.[2]?.split(',').map((v) => Number(v.trim()));
  if (!match || !values || values.length === 0 || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new RangeError(
      `--sweep expects e.g. clients=10,100,500 (clients, senders, rate or size), got '${text}'`,
    );
  }
  return { parameter: match[1] as SweepParameter, values };
}
