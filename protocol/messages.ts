import { MessageError } from './errors.ts';

/** Client → server: the first message; asks to join the room. */
export interface HandshakeMessage {
  type: 'handshake';
  username: string;
  /** The server password, in plaintext (v1 has no better; see docs/protocol.md, Security). */
  server_password: string;
  /** The client's RSA public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  public_key: string;
}

/** Client → server: a chat message for the room. */
export interface ClientChatMessage {
  type: 'message';
  /** base64(Fernet token) when `encrypted`, the plain text otherwise. */
  message: string;
  encrypted: boolean;
}

/** Server → client: the handshake was refused; the server closes the connection after it. */
export interface AuthErrorMessage {
  type: 'auth_error';
  message: string;
}

/** Server → client: a notice for people (welcome, joins, leaves, errors). */
export interface SystemMessage {
  type: 'system';
  message: string;
}

/** Server → client: the room key, RSA-OAEP-encrypted for this client, standard base64. */
export interface KeyExchangeMessage {
  type: 'key_exchange';
  encrypted_key: string;
}

/** Server → client: every member's name, in join order. */
export interface UserListMessage {
  type: 'user_list';
  users: string[];
}

/** Server → client: a relayed chat message; `sender` is always set by the server. */
export interface ServerChatMessage {
  type: 'message';
  sender: string;
  message: string;
  encrypted: boolean;
}

export type ClientMessage = HandshakeMessage | ClientChatMessage;
export type ServerMessage =
  | AuthErrorMessage
  | SystemMessage
  | KeyExchangeMessage
  | UserListMessage
  | ServerChatMessage;
export type AnyMessage = ClientMessage | ServerMessage;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: MessageError };

type FieldKind = 'string' | 'boolean' | 'string[]';

/** The fields each message type requires, in the order the encoder writes them. */
const CLIENT_FIELDS: Record<ClientMessage['type'], Record<string, FieldKind>> = {
  handshake: { username: 'string', server_password: 'string', public_key: 'string' },
  message: { message: 'string', encrypted: 'boolean' },
};

const SERVER_FIELDS: Record<ServerMessage['type'], Record<string, FieldKind>> = {
  auth_error: { message: 'string' },
  system: { message: 'string' },
  key_exchange: { encrypted_key: 'string' },
  user_list: { users: 'string[]' },
  message: { sender: 'string', message: 'string', encrypted: 'boolean' },
};

/** Parses a line a server receives. Extra fields are ignored (v1 peers send them). */
export function parseClientMessage(line: string): ParseResult<ClientMessage> {
  return parseWith(line, CLIENT_FIELDS, 'client') as ParseResult<ClientMessage>;
}

/** Parses a line a client receives. Extra fields are ignored (v1 peers send them). */
export function parseServerMessage(line: string): ParseResult<ServerMessage> {
  return parseWith(line, SERVER_FIELDS, 'server') as ParseResult<ServerMessage>;
}

/** Encodes one message as a single JSON line, newline included. Only the type's fields are written. */
export function encodeMessage(message: AnyMessage): string {
  return `${escapeNonAscii(JSON.stringify(message, fieldsOf(message)))}\n`;
}

/**
 * JSON.stringify with every non-ASCII character escaped as `\uXXXX`, as the prototype writes JSON:
 * its client decodes each 1024-byte read on its own, so a multi-byte character split across two
 * reads would break it. Servers building lines by hand use this for every string they splice in.
 */
export function stringifyAscii(value: unknown): string {
  // The relayed payload's case, once per chat message: a string JSON writes as it is (base64, for
  // an encrypted one). One scan instead of JSON.stringify's and the non-ASCII check's: half the
  // cost of encoding a relayed line.
  if (typeof value === 'string' && VERBATIM_IN_JSON.test(value)) return `"${value}"`;
  return escapeNonAscii(JSON.stringify(value));
}

/** Characters JSON.stringify writes unchanged: printable ASCII but `"` and `\`, and DEL. */
const VERBATIM_IN_JSON = /^[\x20\x21\x23-\x5b\x5d-\x7f]*$/;
const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_ALL = /[^\x00-\x7f]/g;

function escapeNonAscii(json: string): string {
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, escapeCodeUnit) : json;
}

function escapeCodeUnit(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function fieldsOf(message: AnyMessage): string[] {
  const table: Record<string, Record<string, FieldKind>> = message.type === 'message'
    ? 'sender' in message
      ? SERVER_FIELDS
      : CLIENT_FIELDS
    : message.type === 'handshake'
      ? CLIENT_FIELDS
      : SERVER_FIELDS;
  // JSON.stringify's replacer array also filters nested keys; user_list's array of strings has none.
  return ['type', ...Object.keys(table[message.type] ?? {})];
}

function parseWith(
  line: string,
  table: Record<string, Record<string, FieldKind>>,
  sender: 'client' | 'server',
): ParseResult<AnyMessage> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail('ECP_INVALID_JSON', 'line is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('ECP_NOT_AN_OBJECT', `expected a JSON object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (type === undefined) return fail('ECP_MISSING_FIELD', "missing field 'type'", 'type');
  if (typeof type !== 'string') {
    return fail('ECP_WRONG_FIELD_TYPE', `field 'type' must be a string, got ${describe(type)}`, 'type');
  }
  const fields = Object.hasOwn(table, type) ? table[type] : undefined;
  if (fields === undefined) {
    return fail('ECP_UNKNOWN_TYPE', `unknown message type '${type}' from a ${sender}`, 'type');
  }
  const message: Record<string, unknown> = { type };
  for (const [field, kind] of Object.entries(fields)) {
    const fieldValue = record[field];
    if (fieldValue === undefined) return fail('ECP_MISSING_FIELD', `missing field '${field}'`, field);
    if (!hasKind(fieldValue, kind)) {
      return fail(
        'ECP_WRONG_FIELD_TYPE',
        `field '${field}' must be ${KIND_NAMES[kind]}, got ${describe(fieldValue)}`,
        field,
      );
    }
    message[field] = fieldValue;
  }
  return { ok: true, message: message as unknown as AnyMessage };
}

const KIND_NAMES: Record<FieldKind, string> = {
  string: 'a string',
  boolean: 'a boolean',
  'string[]': 'an array of strings',
};

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

function fail(code: MessageError['code'], text: string, field?: string): ParseResult<never> {
  return { ok: false, error: new MessageError(code, text, field) };
}
