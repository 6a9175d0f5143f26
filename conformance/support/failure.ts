/**
 * Conformance failures, built in one place so every failure reads the same way:
 *
 *   ✗ ECP-CHAT-02 SHOULD (server): The server writes a chat message to every other member ...
 *     expected: bob receives {"type":"message","sender":"alice",...} within 2000 ms
 *     actual:   nothing received (last line from bob: {"type":"user_list",...})
 *     hint:     Relay each chat message to every other member before echoing it to the sender.
 */
import type { Limits } from '../../protocol/index.ts';
import { formatRequirement, type Requirement } from '../requirements.ts';
import { hintFor } from './hints.ts';

export interface FailureDetails {
  expected: string;
  actual: string;
  /** Overrides the hint of the requirement. */
  hint?: string;
}

/**
 * A server failed a requirement. Its message is the whole report. It has no stack: a stack trace
 * would only add noise, and cucumber's stack parser backtracks catastrophically on long lines.
 */
export class ConformanceFailure extends Error {
  override readonly name = 'ConformanceFailure';
  constructor(
    message: string,
    readonly requirementIds: readonly string[],
  ) {
    super(message);
    this.stack = undefined;
  }
}

/**
 * The failure text for the requirements a scenario checks. IDs that docs/protocol.md does not
 * define (yet) are still named.
 */
export function formatFailure(
  requirementIds: readonly string[],
  requirements: ReadonlyMap<string, Requirement>,
  details: FailureDetails,
  /** The limits the kit checked against, for the advice on a limit. */
  limits?: Limits,
): string {
  const headers =
    requirementIds.length > 0
      ? requirementIds.map((id) => {
          const requirement = requirements.get(id);
          return `✗ ${requirement ? formatRequirement(requirement) : `${id} (not found in docs/protocol.md)`}`;
        })
      : ['✗ (this scenario names no requirement)'];
  const hint =
    details.hint ?? requirementIds.map((id) => hintFor(id, limits)).find((text) => text !== undefined);
  const lines = [
    ...headers,
    ...labelled('expected', details.expected),
    ...labelled('actual', details.actual),
    ...(hint ? labelled('hint', hint) : []),
  ];
  return lines.join('\n');
}

function labelled(label: string, text: string): string[] {
  const prefix = `  ${`${label}:`.padEnd(10)}`;
  return text.split('\n').map((line, index) => (index === 0 ? prefix : ' '.repeat(prefix.length)) + line);
}
