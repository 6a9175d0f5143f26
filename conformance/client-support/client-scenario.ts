/**
 * What the parts of a client scenario (the kit's room, the waits on the client's output) need of
 * the World: its limits, the client under test, the wire log, and the one way to fail.
 */
import type { FailureDetails } from '../support/failure.ts';
import type { ClientProcess } from './client-process.ts';
import type { ContractRule } from './driver-contract.ts';
import type { WireLog } from './wire-log.ts';

export interface ClientScenario {
  /** How long the client may take to react to something. */
  readonly timeoutMs: number;
  /** How long it may take to start and connect. */
  readonly startTimeoutMs: number;
  readonly client: ClientProcess | undefined;
  readonly wire: WireLog;
  /** What the user typed, in order. */
  readonly typed: readonly string[];
  fail(details: FailureDetails): never;
  failContract(rule: ContractRule, actual: string): never;
}
