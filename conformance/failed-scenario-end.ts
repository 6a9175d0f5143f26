/**
 * Where the server's output stood when a run's last failing scenario ended. What the server writes
 * after that, until the next scenario starts, belongs to that scenario's evidence: the hooks take
 * it when the next scenario starts, and after a serial run's last scenario the runner takes it once
 * the server has stopped. By run id, on globalThis like the open-target registry, since the runner
 * and the support code may load this file as two module instances.
 */
const KEY = Symbol.for('ecp-kit.conformance.failed-scenario-end');

function ends(): Map<string, number> {
  const holder = globalThis as { [KEY]?: Map<string, number> };
  holder[KEY] ??= new Map();
  return holder[KEY];
}

export function markFailedScenarioEnd(runId: string, position: number): void {
  ends().set(runId, position);
}

/** The mark, if a failing scenario left one that nothing took yet; taking it clears it. */
export function takeFailedScenarioEnd(runId: string): number | undefined {
  const position = ends().get(runId);
  ends().delete(runId);
  return position;
}
