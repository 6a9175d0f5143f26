/**
 * The room keys a client holds: the current one, and the previous one for a short grace period.
 *
 * WHY keep the previous key: a server may send a new `key_exchange` at any time. Messages other
 * members sealed with the old key may already be on the wire (or queued in the server) when the new
 * key arrives; dropping the old key at once would make them undecryptable.
 */
import { Fernet, openText, sealText } from '../protocol/index.ts';

export const DEFAULT_KEY_GRACE_MS = 30_000;

/** Which key opened a payload. */
export type KeyGeneration = 'current' | 'previous';

export interface OpenedText {
  text: string;
  key: KeyGeneration;
}

export class Keyring {
  readonly graceMs: number;
  #current: Fernet | undefined;
  #previous: Fernet | undefined;
  #previousExpiresAt = 0;

  constructor(options: { graceMs?: number } = {}) {
    this.graceMs = options.graceMs ?? DEFAULT_KEY_GRACE_MS;
  }

  get hasKey(): boolean {
    return this.#current !== undefined;
  }

  /**
   * Makes `keyText` the current key; the old current key stays usable for `graceMs`.
   * Returns false (and changes nothing) when the key is the one already current, since a server
   * may repeat its key.
   */
  install(keyText: string, now = Date.now()): boolean {
    if (this.#current?.keyText === keyText) return false;
    const next = new Fernet(keyText);
    if (this.#current !== undefined) {
      this.#previous = this.#current;
      this.#previousExpiresAt = now + this.graceMs;
    }
    this.#current = next;
    return true;
  }

  /** Seals text with the current key. Throws if no key is held. */
  seal(text: string): string {
    if (this.#current === undefined) throw new Error('no room key held yet');
    return sealText(this.#current, text);
  }

  /**
   * Opens a sealed payload with the current key, then with the previous one while its grace
   * period lasts. Throws the current key's error when neither opens it.
   */
  open(payload: string, now = Date.now()): OpenedText {
    if (this.#current === undefined) throw new Error('no room key held yet');
    try {
      return { text: openText(this.#current, payload), key: 'current' };
    } catch (error) {
      const previous =
        this.#previous !== undefined && now <= this.#previousExpiresAt ? this.#previous : undefined;
      if (previous === undefined) throw error;
      try {
        return { text: openText(previous, payload), key: 'previous' };
      } catch {
        throw error;
      }
    }
  }
}
