/**
 * Writes a shrunk history as a `.feature` in the kit's step language, which `ecp conformance
 * --features DIR` runs and `ecp fuzz --replay FILE` reruns, and its trace as a transcript.
 */
import { ROOM_ORDER, type Violation } from './checker.ts';
import { formatHistory, type History } from './history.ts';
import type { Trace } from './trace.ts';

export interface FoundRace {
  history: History;
  violation: Violation;
  repeats: number;
  /** Where it came from, for the comment at the top. */
  origin: string;
}

export function featureText(found: FoundRace): string {
  const { violation } = found;
  const tags = ['@fuzz', violation.requirement === ROOM_ORDER ? '@room-order' : `@${violation.requirement}`];
  const body = formatHistory(found.history)
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n');
  return [
    `# Found by ${found.origin}.`,
    `# It broke ${violation.requirement}: ${violation.text}`,
    tags.join(' '),
    'Feature: A history found by ecp fuzz',
    '',
    `  Scenario: ${scenarioName(violation)}`,
    `    When the clients act out this history, up to ${found.repeats} times until the room breaks a rule:`,
    '      """',
    body,
    '      """',
    '    Then every member saw the room as the specification says',
    '',
  ].join('\n');
}

function scenarioName(violation: Violation): string {
  return violation.requirement === ROOM_ORDER
    ? 'Every member sees the room in one order'
    : `The room keeps ${violation.requirement} under concurrent clients`;
}

/** One line per event of the run, in time order: what each connection sent and received. */
export function transcriptText(trace: Trace, violations: readonly Violation[]): string {
  const events: { at: number; text: string }[] = [];
  for (const connection of trace.connections) {
    const who = `c${connection.client}/${connection.id}`;
    for (const handshake of connection.handshakes)
      events.push({ at: handshake.at, text: `${who} -> handshake as ${handshake.name}` });
    for (const chat of connection.chats)
      events.push({ at: chat.at, text: `${who} -> chat #${chat.seq} ${chat.payload}` });
    for (const line of connection.received) events.push({ at: line.at, text: `${who} <- ${line.line}` });
    if (connection.closedByClientAt !== undefined)
      events.push({ at: connection.closedByClientAt, text: `${who} closes` });
    if (connection.closedAt !== undefined) events.push({ at: connection.closedAt, text: `${who} closed` });
  }
  events.sort((a, b) => a.at - b.at);
  return [
    ...violations.map((item) => `VIOLATION ${item.requirement}: ${item.text}`),
    '',
    ...events.map((event) => `${event.at.toFixed(1).padStart(8)} ms  ${event.text}`),
    '',
  ].join('\n');
}
