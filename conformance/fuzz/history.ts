/**
 * A history: what several clients do to one room, step by step. A step with no pause before it
 * happens at once with the step before it (same tick), which is how two joins or two chats race.
 * The text form (one step a line) is what a written `.feature` holds and what a replay reads back.
 */

export type Action =
  /** Connects if the client has no connection, then sends a handshake with this name. */
  | { kind: 'join'; name: string }
  /** A chat message; its text is made unique by the executor. */
  | { kind: 'chat' }
  /** Closes the connection gracefully (the client leaves). */
  | { kind: 'leave' }
  /** Destroys the connection at once, without a goodbye. */
  | { kind: 'abort' }
  /** A line the server must ignore. */
  | { kind: 'bad'; input: BadInput }
  /** Stops reading for a while (a slow reader), then reads again. */
  | { kind: 'stall'; ms: number };

/** The bad lines a history may send; each is to be ignored (docs/protocol.md section 11). */
export const BAD_INPUTS = {
  'not JSON': 'this is not json',
  'unknown type': '{"type":"shout","message":"x"}',
  'a chat without fields': '{"type":"message"}',
  'JSON that is not an object': '[1,2,3]',
  'a blank line': '',
} as const;
export type BadInput = keyof typeof BAD_INPUTS;

export interface Step {
  /** The client that acts, from 1. */
  client: number;
  /** Milliseconds to wait after the step before it; 0 is at once. */
  pauseMs: number;
  action: Action;
}

export type History = readonly Step[];

/** One line per step: `c2 joins as ann`, `after 5 ms c1 says something`. */
export function formatStep(step: Step): string {
  const who = `c${step.client}`;
  const when = step.pauseMs > 0 ? `after ${step.pauseMs} ms ` : '';
  return `${when}${who} ${describeAction(step.action)}`;
}

function describeAction(action: Action): string {
  switch (action.kind) {
    case 'join':
      return `joins as ${action.name}`;
    case 'chat':
      return 'says something';
    case 'leave':
      return 'leaves';
    case 'abort':
      return 'drops the connection';
    case 'bad':
      return `sends ${action.input}`;
    case 'stall':
      return `stops reading for ${action.ms} ms`;
  }
}

export function formatHistory(history: History): string {
  return history.map(formatStep).join('\n');
}

const STEP = /^(?:after (\d+) ms )?c(\d+) (.+)$/;

/** Reads the text form back; throws a RangeError naming the line it cannot read. */
export function parseHistory(text: string): Step[] {
  const steps: Step[] = [];
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  for (const [index, line] of lines.entries()) {
    const match = STEP.exec(line);
    const action = match ? parseAction(match[3]!) : undefined;
    if (!match || !action) throw new RangeError(`history line ${index + 1}: cannot read '${line}'`);
    steps.push({ client: Number(match[2]), pauseMs: Number(match[1] ?? 0), action });
  }
  return steps;
}

function parseAction(text: string): Action | undefined {
  if (text === 'says something') return { kind: 'chat' };
  if (text === 'leaves') return { kind: 'leave' };
  if (text === 'drops the connection') return { kind: 'abort' };
  const join = /^joins as (\S+)$/.exec(text);
  if (join) return { kind: 'join', name: join[1]! };
  const stall = /^stops reading for (\d+) ms$/.exec(text);
  if (stall) return { kind: 'stall', ms: Number(stall[1]) };
  const bad = /^sends (.+)$/.exec(text);
  if (bad && bad[1]! in BAD_INPUTS) return { kind: 'bad', input: bad[1] as BadInput };
  return undefined;
}
