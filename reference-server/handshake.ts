/**
 * Deciding on a handshake, without sockets: the password, the username rules, whether the name
 * is free, and the public key, in the order of docs/protocol.md section 4.1 (the first failing
 * check decides). The answer is what a join needs, or the exact text to send back.
 */
import type { KeyObject } from 'node:crypto';
import {
  authErrors,
  CryptoError,
  DEFAULT_LIMITS,
  type HandshakeMessage,
  isValidUsername,
  type MessageError,
  notices,
} from '../protocol/index.ts';
import type { PasswordCheck } from './password.ts';
import { importHandshakeKey } from './public-key.ts';
import type { HandshakeFailureReason } from './stats.ts';

export interface HandshakePolicy {
  password: PasswordCheck;
  maxUsernameLength: number;
  /** Whether a current member has this exact name. */
  isNameTaken(username: string): boolean;
}

export type HandshakeVerdict =
  | { ok: true; username: string; publicKey: KeyObject }
  /** The name is taken: answer with this `system` notice; the connection stays open for another try. */
  | { ok: false; reason: 'username_taken'; notice: string }
  /** Refused: answer with this `auth_error`, then close. */
  | { ok: false; reason: Exclude<HandshakeFailureReason, 'username_taken'>; authError: string };

export function checkHandshake(message: HandshakeMessage, policy: HandshakePolicy): HandshakeVerdict {
  if (!policy.password.matches(message.server_password)) {
    return { ok: false, reason: 'invalid_password', authError: authErrors.invalidPassword };
  }
  if (!isValidUsername(message.username, policy.maxUsernameLength)) {
    return {
      ok: false,
      reason: 'invalid_username',
      authError: invalidUsernameText(policy.maxUsernameLength),
    };
  }
  if (policy.isNameTaken(message.username)) {
    return { ok: false, reason: 'username_taken', notice: notices.usernameTaken };
  }
  try {
    const publicKey = importHandshakeKey(message.public_key);
    return { ok: true, username: message.username, publicKey };
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    return { ok: false, reason: 'invalid_public_key', authError: authErrors.invalidPublicKey(error.message) };
  }
}

/**
 * The `auth_error` text for a handshake the parser refused for a missing or wrongly typed field,
 * or undefined when the error is of another kind. Every handshake field is a string.
 */
export function invalidHandshakeText(error: MessageError): string | undefined {
  if (error.field === undefined || error.field === 'type') return undefined;
  if (error.code === 'ECP_MISSING_FIELD')
    return authErrors.invalidHandshake(`missing field '${error.field}'`);
  if (error.code === 'ECP_WRONG_FIELD_TYPE') {
    return authErrors.invalidHandshake(`field '${error.field}' must be a string`);
  }
  return undefined;
}

/** The v1 text names the default limit; a server run with another limit states its own. */
export function invalidUsernameText(maxUsernameLength: number): string {
  return maxUsernameLength === DEFAULT_LIMITS.maxUsernameLength
    ? authErrors.invalidUsername
    : authErrors.invalidUsername.replace('1-32', `1-${maxUsernameLength}`);
}
