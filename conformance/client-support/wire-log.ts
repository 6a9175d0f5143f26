/**
 * The wire transcript of one client under test: every message each way, in order, with the text
 * the kit can decrypt shown beside each sealed payload (the kit holds every room key it handed out).
 */
import { Fernet, openText } from '../../protocol/index.ts';

export type Direction = 'kit → client' | 'client → kit';

interface Entry {
  direction: Direction;
  text: string;
  /** How it was written when it was not one plain message (split, raw bytes, ...). */
  how?: string;
}

const SHOWN_CHARS = 400;

export class WireLog {
  readonly #entries: Entry[] = [];
  /** Every room key the kit handed out, oldest first. */
  readonly #keys: string[] = [];

  add(direction: Direction, text: string, how?: string): void {
    this.#entries.push({ direction, text, ...(how ? { how } : {}) });
  }

  addKey(key: string): void {
    this.#keys.push(key);
  }

  /** Every message the client sent, as text. */
  sentByClient(): string[] {
    return this.#entries.filter((entry) => entry.direction === 'client → kit').map((entry) => entry.text);
  }

  format(): string {
    if (this.#entries.length === 0) return '(nothing on the wire)\n';
    return this.#entries.map((entry) => this.#formatEntry(entry)).join('');
  }

  #formatEntry(entry: Entry): string {
    const shown =
      entry.text.length > SHOWN_CHARS
        ? `${entry.text.slice(0, SHOWN_CHARS)}… (${entry.text.length} chars)`
        : entry.text;
    let line = `${entry.direction}  ${shown}${entry.how ? `   [${entry.how}]` : ''}\n`;
    const decrypted = this.#decrypt(entry.text);
    if (decrypted) line += `               ⤷ ${decrypted}\n`;
    return line;
  }

  #decrypt(text: string): string | undefined {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return undefined;
    }
    const payload = (message as { message?: unknown; encrypted?: unknown } | null)?.message;
    if ((message as { type?: unknown }).type !== 'message' || typeof payload !== 'string') return undefined;
    if ((message as { encrypted?: unknown }).encrypted !== true) return undefined;
    for (let index = this.#keys.length - 1; index >= 0; index--) {
      try {
        const plain = openText(new Fernet(this.#keys[index]!), payload);
        return `decrypted with room key #${index + 1}: ${JSON.stringify(plain.length > SHOWN_CHARS ? `${plain.slice(0, SHOWN_CHARS)}…` : plain)}`;
      } catch {
        // Not this key: try the one before.
      }
    }
    return 'not decryptable with any room key the kit handed out';
  }
}
