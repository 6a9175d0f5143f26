// @ts-check
/**
 * ECP v1 as a client sees it, without I/O (docs/protocol.md; protocol/messages.ts, notices.ts and
 * join.ts are the library's side of the same rules): the messages a server sends, parsed strictly
 * and ignored when unusable (ECP-MSG-03, 05), the texts servers send, and the join sequence.
 */

/** The subprotocol of ECP v1 over WebSocket. */
export const ECP_SUBPROTOCOL = 'ecp.v1';

/** The exact texts v1 servers send. */
export const notices = {
  usernameTaken: 'Username already taken',
  shuttingDown: 'Server is shutting down',
  keyFailed: 'Error establishing secure connection',
  invalidPassword: 'Invalid server password',
  serverFull: 'Server full',
};

/**
 * @typedef {{ type: 'auth_error', message: string }
 *   | { type: 'system', message: string }
 *   | { type: 'key_exchange', encrypted_key: string }
 *   | { type: 'user_list', users: string[] }
 *   | { type: 'message', sender: string, message: string, encrypted: boolean }} ServerMessage
 */

/** @type {Record<string, Record<string, 'string' | 'boolean' | 'string[]'>>} */
const SERVER_FIELDS = {
  auth_error: { message: 'string' },
  system: { message: 'string' },
  key_exchange: { encrypted_key: 'string' },
  user_list: { users: 'string[]' },
  message: { sender: 'string', message: 'string', encrypted: 'boolean' },
};

/**
 * One frame from the server (with or without a trailing line feed) as a message, or undefined when
 * it is not one this client can use: not JSON, not an object, an unknown type, a missing field.
 * @param {string} text
 * @returns {ServerMessage | undefined}
 */
export function parseServerMessage(text) {
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = /** @type {Record<string, unknown>} */ (value);
  const type = record.type;
  if (typeof type !== 'string' || !Object.hasOwn(SERVER_FIELDS, type)) return undefined;
  for (const [field, kind] of Object.entries(SERVER_FIELDS[type] ?? {})) {
    const field_value = record[field];
    const fits =
      kind === 'string[]'
        ? Array.isArray(field_value) && field_value.every((item) => typeof item === 'string')
        : typeof field_value === kind;
    if (!fits) return undefined;
  }
  return /** @type {ServerMessage} */ (record);
}

/**
 * The first message on a connection (ECP-HS-01), as one frame's text.
 * @param {string} username
 * @param {string} password
 * @param {string} publicKeyPem
 */
export function handshakeFrame(username, password, publicKeyPem) {
  return JSON.stringify({ type: 'handshake', username, server_password: password, public_key: publicKeyPem });
}

/**
 * A chat message (ECP-CHAT-06): a sealed payload with `encrypted: true`.
 * @param {string} payload
 */
export function chatFrame(payload) {
  return JSON.stringify({ type: 'message', message: payload, encrypted: true });
}

/**
 * Why a join failed.
 * @typedef {'wrong_password' | 'server_full' | 'refused' | 'username_taken' | 'key_refused' | 'key_unusable'} Refusal
 */

/**
 * What a message received while joining means (ECP-HS-03, ECP-AUTH-07, 08): the join completes
 * with a `user_list` after the room key; an `auth_error`, the taken-name notice or the
 * prototype's key failure refuse it.
 * @param {ServerMessage} message
 * @returns {Refusal | undefined}
 */
export function refusalOf(message) {
  if (message.type === 'auth_error') {
    if (message.message === notices.invalidPassword) return 'wrong_password';
    if (message.message === notices.serverFull) return 'server_full';
    return 'refused';
  }
  if (message.type === 'system' && message.message === notices.usernameTaken) return 'username_taken';
  if (message.type === 'system' && message.message === notices.keyFailed) return 'key_refused';
  return undefined;
}

/**
 * Who joined and who left between two user lists.
 * @param {string[]} before
 * @param {string[]} after
 */
export function membershipChange(before, after) {
  return {
    joined: after.filter((name) => !before.includes(name)),
    left: before.filter((name) => !after.includes(name)),
  };
}
