/**
 * The admin API's endpoints: which method and path do what, what each request body must hold,
 * and what each answers. No HTTP here: http-server.ts reads requests and writes responses; the
 * server behind `AdminActions` does the work.
 */
import type { AdminAction, AdminRejection } from '../stats.ts';

/** A member as the admin API lists it. */
export interface AdminUser {
  name: string;
  /** tcp, tls, ws or wss. */
  transport: string;
  /** The peer's address and port. */
  peer: string;
  /** Since the connection was accepted, ms. */
  connectedMs: number;
  /** Output queued for the member that the kernel has not taken yet. */
  pendingOutputBytes: number;
}

/** What the admin API asks of the server. */
export interface AdminActions {
  status(): Record<string, unknown>;
  /** Members in join order. */
  users(): AdminUser[];
  /** A `system` notice to every member; how many it reached. */
  announce(text: string): number;
  /** Disconnects the member called `name` with this notice; false when there is none. */
  kick(name: string, notice: string): boolean;
  /** A new room key to every member; how many got it. */
  rotateKey(): number;
}

export interface Route {
  method: 'GET' | 'POST';
  action: AdminAction;
  /** The answer's body, and what the action's log line adds. Throws AdminRequestError for bad input. */
  handle(actions: AdminActions, body: unknown): { answer: unknown; logged?: Record<string, unknown> };
}

/** A request the admin API refuses: its HTTP status, the counter it goes to, and why (for the caller). */
export class AdminRequestError extends Error {
  override readonly name = 'AdminRequestError';
  constructor(
    readonly status: number,
    readonly rejection: AdminRejection,
    message: string,
  ) {
    super(message);
  }
}

/** The longest announcement and kick reason, characters. */
export const MAX_NOTICE_CHARS = 1000;
export const MAX_REASON_CHARS = 200;

/** What a kicked member reads before the connection closes. */
export function kickNotice(reason: string | undefined): string {
  return reason === undefined
    ? 'You were disconnected by the operator'
    : `You were disconnected by the operator: ${reason}`;
}

export const ROUTES: Readonly<Record<string, Route>> = {
  '/status': { method: 'GET', action: 'status', handle: (actions) => ({ answer: actions.status() }) },
  '/users': { method: 'GET', action: 'users', handle: (actions) => ({ answer: { users: actions.users() } }) },
  '/announce': {
    method: 'POST',
    action: 'announce',
    handle: (actions, body) => {
      const fields = fieldsOf(body, ['text']);
      const text = textField(fields, 'text', MAX_NOTICE_CHARS, true)!;
      const members = actions.announce(text);
      return { answer: { announced: text, members }, logged: { chars: text.length, members } };
    },
  },
  '/kick': {
    method: 'POST',
    action: 'kick',
    handle: (actions, body) => {
      const fields = fieldsOf(body, ['name', 'reason']);
      const name = textField(fields, 'name', 64, true)!;
      const reason = textField(fields, 'reason', MAX_REASON_CHARS, false);
      if (!actions.kick(name, kickNotice(reason))) {
        throw new AdminRequestError(404, 'not_found', `no user named ${JSON.stringify(name)} in the room`);
      }
      return { answer: { kicked: name, reason: reason ?? null }, logged: { username: name, reason } };
    },
  },
  '/rotate-key': {
    method: 'POST',
    action: 'rotate_key',
    handle: (actions, body) => {
      fieldsOf(body ?? {}, []);
      const members = actions.rotateKey();
      return { answer: { rotated: true, members }, logged: { members } };
    },
  },
};

/** The body as an object holding only `allowed` fields (a misspelt field is an error, not ignored). */
function fieldsOf(body: unknown, allowed: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AdminRequestError(400, 'bad_request', 'the body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const expected = allowed.length === 0 ? 'no fields' : allowed.map((name) => `"${name}"`).join(', ');
    throw new AdminRequestError(400, 'bad_request', `unknown field "${unknown[0]}" (expected ${expected})`);
  }
  return body as Record<string, unknown>;
}

function textField(
  fields: Record<string, unknown>,
  name: string,
  maxChars: number,
  required: boolean,
): string | undefined {
  const value = fields[name];
  if (value === undefined) {
    if (required) throw new AdminRequestError(400, 'bad_request', `missing field "${name}"`);
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new AdminRequestError(400, 'bad_request', `"${name}" must be a string`);
  }
  if (value.trim() === '') throw new AdminRequestError(400, 'bad_request', `"${name}" is empty`);
  if (value.length > maxChars) {
    throw new AdminRequestError(400, 'bad_request', `"${name}" is longer than ${maxChars} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new AdminRequestError(400, 'bad_request', `"${name}" holds control characters`);
  }
  return value;
}
