/**
 * The admin API's bearer token: where it comes from, and the check of every request against it.
 * Both sides are hashed first, so the comparison takes the same time whatever the candidate's length
 * and content (timingSafeEqual needs equal lengths, and a length check first would leak the
 * token's). The token never reaches a log line or an inspected object.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OptionsError } from '../options.ts';

/** Shorter tokens are refused: the admin API can disconnect users and change the room key. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
/** Printable ASCII without spaces: what an `Authorization: Bearer` header can carry as is. */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;

/** A token that cannot be used, or none at all. Commands turn it into exit code 2. */
export class AdminTokenError extends OptionsError {}

export class AdminToken {
  readonly #digest: Buffer;

  constructor(token: string) {
    if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
      throw new AdminTokenError(
        `the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters, got ${token.length}`,
      );
    }
    if (!TOKEN_CHARACTERS.test(token)) {
      throw new AdminTokenError('the admin token must be printable ASCII without spaces');
    }
    this.#digest = digest(token);
  }

  /** True when `authorization` (the request's header) is `Bearer <the token>`. */
  accepts(authorization: string | undefined): boolean {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    // Hashed and compared even without a well-formed header: every refusal takes the same path.
    const equal = timingSafeEqual(this.#digest, digest(match?.[1] ?? ''));
    return equal && match !== null;
  }

  toJSON(): string {
    return '[AdminToken]';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The token from `--admin-token-file` / `--token-file` (one trailing newline dropped) or, without
 * one, from `$ECP_ADMIN_TOKEN`. Never from a flag's value: that would show in `ps`.
 */
export function readAdminToken(
  sources: { file: string | undefined; env: string | undefined },
  flag: string,
): string {
  if (sources.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(sources.file, 'utf8');
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new AdminTokenError(`cannot read ${flag} ${sources.file}: ${reason}`);
    }
    return text.replace(/\r?\n$/, '');
  }
  if (sources.env !== undefined && sources.env !== '') return sources.env;
  throw new AdminTokenError(`no admin token: give ${flag} FILE or set ECP_ADMIN_TOKEN`);
}
