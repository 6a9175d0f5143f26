/**
 * The wire transcript of one test client: every line sent and received, timestamped from the
 * start of the scenario, the decrypted text beside each encrypted payload, passwords redacted.
 * Attached to failing scenarios so a learner sees exactly what crossed the wire.
 */

export type WireDirection = 'sent' | 'received' | 'event';

export interface WireLogEntry {
  atMs: number;
  direction: WireDirection;
  /** The line as the transcript shows it: long strings and long lines shortened (`abbreviate`). */
  text: string;
  /** The decrypted text of an encrypted chat payload, or another note about the line. */
  note?: string;
}

/** Entries kept in full at each end of a long transcript (e.g. a 1,000-message burst). */
const KEEP_AT_EACH_END = 150;
const LONG_STRING = 96;
const LONG_LINE = 400;
const ARROWS: Record<WireDirection, string> = { sent: '→', received: '←', event: '·' };

export class WireLog {
  readonly #entries: WireLogEntry[] = [];
  #dropped = 0;

  constructor(
    readonly title: string,
    private readonly startedAt: number,
  ) {}

  sent(text: string, note?: string): void {
    this.#add('sent', text, note);
  }

  received(text: string, note?: string): void {
    this.#add('received', text, note);
  }

  event(text: string): void {
    this.#add('event', text);
  }

  get entries(): readonly WireLogEntry[] {
    return this.#entries;
  }

  render(): string {
    const lines = [`${this.title}  (→ sent, ← received, · event; ms since the scenario started)`];
    this.#entries.forEach((entry, index) => {
      if (this.#dropped > 0 && index === KEEP_AT_EACH_END) {
        lines.push(`          … ${this.#dropped} entries omitted …`);
      }
      lines.push(`${entry.atMs.toFixed(1).padStart(9)}  ${ARROWS[entry.direction]} ${entry.text}`);
      if (entry.note !== undefined) lines.push(`${' '.repeat(13)}${entry.note}`);
    });
    return `${lines.join('\n')}\n`;
  }

  #add(direction: WireDirection, text: string, note?: string): void {
    // Shortened now, not when rendered: a transcript that kept each line of a burst whole (15 KB
    // each, the last 150 of them) would keep them alive long enough to burden the kit's garbage
    // collector while it must keep reading.
    const entry: WireLogEntry = {
      atMs: performance.now() - this.startedAt,
      direction,
      text: abbreviate(text),
    };
    if (note !== undefined) entry.note = note;
    this.#entries.push(entry);
    // Keep the first and the last entries; the middle of a flood says little.
    if (this.#entries.length > 2 * KEEP_AT_EACH_END) {
      this.#entries.splice(KEEP_AT_EACH_END, 1);
      this.#dropped += 1;
    }
  }
}

/** A text as a JSON string, shortened like the string values `abbreviate` shortens. */
export function quoteShort(text: string): string {
  return JSON.stringify(
    text.length > LONG_STRING ? `${text.slice(0, LONG_STRING / 2)}…(${text.length} chars)` : text,
  );
}

/** Shortens long JSON string values (keys, payloads) and long lines, keeping the shape visible. */
export function abbreviate(text: string): string {
  // Too short to hold a long string or to be a long line: no need to parse it.
  if (text.length <= LONG_STRING) return text;
  let shown = text;
  try {
    const value = JSON.parse(text) as unknown;
    // Re-serialised only when something must be shortened: otherwise the exact bytes are shown.
    if (typeof value === 'object' && value !== null && hasLongString(value)) {
      shown = JSON.stringify(value, (_key, item: unknown) =>
        typeof item === 'string' && item.length > LONG_STRING
          ? `${item.slice(0, LONG_STRING / 2)}…(${item.length} chars)`
          : item,
      );
    }
  } catch {
    // Not JSON: shown as it is, shortened below.
  }
  return shown.length > LONG_LINE ? `${shown.slice(0, LONG_LINE)}…(${text.length} chars in all)` : shown;
}

function hasLongString(value: unknown): boolean {
  if (typeof value === 'string') return value.length > LONG_STRING;
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasLongString);
  return false;
}
