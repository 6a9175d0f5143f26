import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks handshake passwords in constant time. Both sides are hashed first so that the comparison
 * takes the same time whatever the candidate's length (timingSafeEqual needs equal lengths, and an
 * early length check would leak the password's length).
 */
export class PasswordCheck {
  readonly #digest: Buffer;

  constructor(password: string) {
    this.#digest = digest(password);
  }

  matches(candidate: string): boolean {
    return timingSafeEqual(this.#digest, digest(candidate));
  }

  /** Never let the password reach a log line or an inspected object by accident. */
  toJSON(): string {
    return '[PasswordCheck]';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
