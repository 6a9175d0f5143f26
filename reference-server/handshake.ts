/**
 * Deciding on a handshake, without sockets or room state: the password, the username rules and the
 * public key. What it returns is either what a join needs or the exact `auth_error` text to send.
 * Whether the name is free is the room's question, asked only after this says yes.
 */
import type { KeyObject } from 'node:crypto';
import {
  authErrors,
  CryptoError,
  DEFAULT_LIMITS,
  type HandshakeMessage,
  importPublicKeyPem,
  isValidUsername,
  type MessageError,
} from '../protocol/index.ts';
import type { PasswordCheck } from './password.ts';
import type { HandshakeFailureReason } from './stats.ts';

export interface HandshakePolicy {
  password: PasswordCheck;
  maxUsernameLength: number;
}

export type HandshakeVerdict =
  | { ok: true; username: string; publicKey: KeyObject }
  | { ok: false; reason: HandshakeFailureReason; authError: string };

/** Password first (nothing else is revealed without it), then the username, then the key. */
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
  try {
    const publicKey = importPublicKeyPem(message.public_key);
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
