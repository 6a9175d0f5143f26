/**
 * The driver contract: what any client under test does so that the kit can drive it and read what
 * it shows, in a few lines of wrapper at most (docs/conformance.md, "Checking a client"). The rules
 * are numbered so that a failure can name the one a client broke.
 */

export const CONTRACT_RULES = {
  C1: 'C1: every line the client reads on its standard input is sent as one chat message',
  C2: 'C2: every line the client writes on its standard output is one JSON object',
  C3: 'C3: a chat message the client shows is one stdout line with "sender" (a string), "text" (a string) and "encrypted" (true or false)',
  C4: 'C4: a message the client cannot decrypt is not shown, or shown as {"sender": ..., "undecryptable": true}',
  C5: 'C5: the client exits with a non-zero status when its join is refused',
  C6: 'C6: the client exits once its standard input ends',
  C7: 'C7: the client exits when the server ends the session',
} as const;

export type ContractRule = keyof typeof CONTRACT_RULES;

/** What one line of the client's standard output says. */
export type ShownLine =
  | { kind: 'chat'; sender: string; text: string; encrypted: boolean }
  | { kind: 'undecryptable'; sender: string }
  /** A JSON object without `sender`: not a chat message (a join, a notice, ...); ignored. */
  | { kind: 'other' }
  | { kind: 'broken'; rule: ContractRule; detail: string };

/** Reads one stdout line (without its line feed) against rules C2 to C4. */
export function readShownLine(line: string): ShownLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'broken', rule: 'C2', detail: `not JSON: ${excerpt(line)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'broken', rule: 'C2', detail: `JSON, but not an object: ${excerpt(line)}` };
  }
  const fields = value as Record<string, unknown>;
  if (!('sender' in fields)) return { kind: 'other' };
  if (typeof fields.sender !== 'string') {
    return { kind: 'broken', rule: 'C3', detail: `"sender" is not a string: ${excerpt(line)}` };
  }
  if (fields.undecryptable === true) return { kind: 'undecryptable', sender: fields.sender };
  if (typeof fields.text !== 'string') {
    return {
      kind: 'broken',
      rule: fields.text === null || fields.text === undefined ? 'C4' : 'C3',
      detail: `"text" is ${fields.text === undefined ? 'missing' : `not a string`} and "undecryptable" is not true: ${excerpt(line)}`,
    };
  }
  if (typeof fields.encrypted !== 'boolean') {
    return { kind: 'broken', rule: 'C3', detail: `"encrypted" is not true or false: ${excerpt(line)}` };
  }
  return { kind: 'chat', sender: fields.sender, text: fields.text, encrypted: fields.encrypted };
}

function excerpt(line: string): string {
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
}
