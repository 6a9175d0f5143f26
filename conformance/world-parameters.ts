/**
 * What the `ecp conformance` process hands to the cucumber World (as JSON world parameters), and the
 * in-process registry through which a serial run shares a target that cannot travel as JSON
 * (an embedded server with a custom starter, e.g. a mutant).
 */
import type { Limits } from '../protocol/index.ts';
import type { Target, TargetSpec } from '../server-under-test/index.ts';

/** When the hooks restart a target that can be restarted (embedded, spawned). */
export type RestartPolicy = 'none' | 'feature' | 'scenario';
export const RESTART_POLICIES: readonly RestartPolicy[] = ['none', 'feature', 'scenario'];

export type TargetReference =
  /** A target the runner opened in this process (serial runs). */
  | { ref: string }
  /** A JSON spec each parallel worker opens for itself. */
  | { spec: TargetSpec };

export interface ConformanceWorldParameters {
  target: TargetReference;
  restart: RestartPolicy;
  /** How long each expectation waits, in ms. */
  timeoutMs: number;
  /** The limits the target declared (or the defaults), so robustness scenarios fit them. */
  limits: Limits;
  /** A short random prefix that makes usernames unique per run, so one server can serve many runs. */
  runId: string;
  /** Feeds every random input a scenario sends (`--seed`): the same seed, the same bytes. */
  seed: number;
  /** docs/protocol.md, for quoting requirements in failure messages. */
  requirementsPath: string;
  /** RSA-2048 key pairs generated up front and reused by test clients. */
  keyPoolSize: number;
}

// On globalThis rather than in a module variable: under a test runner the support code and the
// runner may load this file as two separate module instances.
const REGISTRY_KEY = Symbol.for('ecp-kit.conformance.open-targets');

function registry(): Map<string, Target> {
  const holder = globalThis as { [REGISTRY_KEY]?: Map<string, Target> };
  holder[REGISTRY_KEY] ??= new Map();
  return holder[REGISTRY_KEY];
}

let nextReference = 0;

export function shareOpenTarget(target: Target): { ref: string } {
  const ref = `target-${process.pid}-${++nextReference}`;
  registry().set(ref, target);
  return { ref };
}

export function sharedOpenTarget(ref: string): Target | undefined {
  return registry().get(ref);
}

export function unshareOpenTarget(ref: string): void {
  registry().delete(ref);
}
