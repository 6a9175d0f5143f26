/**
 * The room as the specification describes it, as a state machine per connection: outside the room
 * (only a taken-name answer, the join sequence or a refusal may reach it), then a member (the room's
 * traffic: user lists each followed by its join or leave notice, and chat messages). `followConnection`
 * walks one connection's received lines through it and says what it saw; the checker compares what
 * the connections saw with one another.
 */
import { notices } from '../../protocol/index.ts';
import type { ConnectionTrace, ReceivedLine } from './trace.ts';

export interface Violation {
  /** The requirement it breaks (`ECP-UL-01`), or `room order` (see checker.ts). */
  requirement: string;
  /** The connection it was seen on, when there is one. */
  connection?: number;
  text: string;
}

export interface ReceivedChat {
  sender: unknown;
  payload: string;
  at: number;
}

/** One connection as the model sees it. */
export interface Member {
  trace: ConnectionTrace;
  /** The name it was admitted with, once admitted. */
  name: string | undefined;
  /** When its key_exchange arrived. */
  admittedAt: number | undefined;
  /** The chat messages it received as a member, in order. */
  chats: ReceivedChat[];
  /** The last user_list it received. */
  lastUserList: string[] | undefined;
}

const SYSTEM_ANY_TIME = new Set<string>([notices.shuttingDown]);

export function followConnection(trace: ConnectionTrace, violations: Violation[]): Member {
  const member: Member = {
    trace,
    name: undefined,
    admittedAt: undefined,
    chats: [],
    lastUserList: undefined,
  };
  const lines = trace.received;
  const flag = (requirement: string, text: string) =>
    violations.push({ requirement, connection: trace.id, text: `connection ${trace.id}: ${text}` });
  for (let i = 0; i < lines.length; i++) {
    const { message, line } = lines[i]!;
    if (!message || typeof message.type !== 'string') {
      flag('ECP-MSG-01', `received a line that is not an ECP message: ${clip(line)}`);
      continue;
    }
    const text = typeof message.message === 'string' ? message.message : undefined;
    if (message.type === 'auth_error') continue;
    if (message.type === 'system' && (SYSTEM_ANY_TIME.has(text ?? '') || text?.startsWith('Line too long')))
      continue;
    if (member.name === undefined) {
      if (message.type === 'system' && text === notices.usernameTaken) continue;
      const welcomed = message.type === 'system' && text?.startsWith('Welcome ');
      if (welcomed || message.type === 'key_exchange') {
        i = admit(member, lines, i, welcomed ? 1 : 0, flag);
        continue;
      }
      flag('ECP-HS-03', `received ${describe(message)} before it was admitted`);
      continue;
    }
    if (message.type === 'key_exchange' || (message.type === 'system' && text?.startsWith('Welcome '))) {
      flag(
        'ECP-ERR-04',
        `received ${describe(message)} again as a member: a second handshake was not ignored`,
      );
      continue;
    }
    if (message.type === 'system' && text === notices.usernameTaken) {
      flag('ECP-ERR-04', 'a member was answered `Username already taken`: its handshake was not ignored');
      continue;
    }
    if (message.type === 'message') {
      member.chats.push({ sender: message.sender, payload: String(message.message), at: lines[i]!.at });
      continue;
    }
    if (message.type === 'user_list') {
      const users = usersOf(message);
      member.lastUserList = users;
      checkUserList(users, flag);
      const next = lines[i + 1];
      if (!next) continue; // the trace ended between the list and its notice
      const notice = next.message?.type === 'system' ? String(next.message.message) : '';
      const joined = /^(.*) has joined the chat$/.exec(notice);
      const left = /^(.*) has left the chat$/.exec(notice);
      if (joined && users.includes(joined[1]!)) i++;
      else if (left && !users.includes(left[1]!)) i++;
      else flag('ECP-HS-05', `a user_list [${users.join(', ')}] not followed by its join or leave notice`);
      continue;
    }
    if (message.type === 'system' && / has (joined|left) the chat$/.test(text ?? '')) {
      const requirement = text!.endsWith('joined the chat') ? 'ECP-HS-05' : 'ECP-LV-02';
      flag(requirement, `the notice '${text}' did not come right after a user_list`);
    }
  }
  return member;
}

/** The join sequence at lines[i] (ECP-HS-02, ECP-HS-03); returns the index of its last line. */
function admit(
  member: Member,
  lines: readonly ReceivedLine[],
  i: number,
  welcome: 0 | 1,
  flag: (requirement: string, text: string) => void,
): number {
  const handshakes = member.trace.handshakes;
  const welcomeText = welcome ? String(lines[i]!.message!.message) : undefined;
  const name = welcomeText
    ? /^Welcome (.*)! Establishing secure connection\.\.\.$/.exec(welcomeText)?.[1]
    : handshakes.at(-1)?.name;
  if (!welcome) flag('ECP-HS-03', 'the join sequence did not start with the welcome notice');
  const keyLine = lines[i + welcome];
  const secured = lines[i + welcome + 1];
  const list = lines[i + welcome + 2];
  if (!keyLine || !secured || !list) {
    // Cut short by the end of the trace: admitted all the same once its key arrived.
    if (keyLine?.message?.type === 'key_exchange') {
      member.name = name;
      member.admittedAt = keyLine.at;
    }
    return lines.length;
  }
  if (keyLine.message?.type !== 'key_exchange') {
    flag('ECP-HS-03', `the welcome was followed by ${describe(keyLine.message)}, not the key_exchange`);
    return i;
  }
  member.name = name ?? handshakes.at(-1)?.name;
  member.admittedAt = keyLine.at;
  if (name === undefined || !handshakes.some((handshake) => handshake.name === name))
    flag('ECP-HS-03', `welcomed under a name it never asked for: '${welcomeText}'`);
  if (secured.message?.type !== 'system' || secured.message.message !== notices.secured) {
    flag('ECP-HS-03', `the key_exchange was followed by ${describe(secured.message)}`);
    return i + welcome;
  }
  if (list.message?.type !== 'user_list') {
    flag('ECP-HS-03', `the join sequence's fourth line was ${describe(list.message)}, not the user_list`);
    return i + welcome + 1;
  }
  const users = usersOf(list.message);
  member.lastUserList = users;
  checkUserList(users, flag);
  if (member.name !== undefined && !users.includes(member.name))
    flag('ECP-HS-02', `its first user_list [${users.join(', ')}] does not name it (${member.name})`);
  return i + welcome + 2;
}

function checkUserList(users: string[], flag: (requirement: string, text: string) => void): void {
  const twice = users.filter((name, index) => users.indexOf(name) !== index);
  if (twice.length > 0)
    flag('ECP-UL-01', `a user_list names ${twice.join(', ')} twice: [${users.join(', ')}]`);
}

function usersOf(message: Record<string, unknown>): string[] {
  return Array.isArray(message.users) ? message.users.map(String) : [];
}

export function describe(message: Record<string, unknown> | undefined): string {
  if (!message) return 'nothing';
  if (message.type === 'system') return `the notice '${String(message.message)}'`;
  if (message.type === 'user_list') return `a user_list [${usersOf(message).join(', ')}]`;
  if (message.type === 'message') return `a chat message from ${String(message.sender)}`;
  return `a ${String(message.type)}`;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
