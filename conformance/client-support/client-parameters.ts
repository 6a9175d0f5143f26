/**
 * What `ecp conformance --client` hands to the client World (as JSON world parameters).
 */
import type { TransportName } from '../../transport/index.ts';

/** `json`: the client meets the whole driver contract; `none`: it is judged at the wire only. */
export type ClientOutput = 'json' | 'none';
export const CLIENT_OUTPUTS: readonly ClientOutput[] = ['json', 'none'];

export interface ClientWorldParameters {
  /** The client's command, with `{url}`, `{host}`, `{port}`, `{username}`, `{password}`, `{ca}`. */
  command: string;
  output: ClientOutput;
  /** What the kit's room listens on. */
  transport: TransportName;
  /** How long each expectation waits, ms. */
  timeoutMs: number;
  /** How long the client may take to start and connect, ms. */
  startTimeoutMs: number;
  /** docs/protocol.md, for quoting requirements in failure messages. */
  requirementsPath: string;
}
