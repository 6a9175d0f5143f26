/**
 * The catalogue of deliberately broken servers ("mutants"), each with the one fault it has and the
 * scenario of the conformance kit that catches it. A mutant the kit does not catch is a hole in
 * the kit (test/conformance/mutants.integration.test.ts runs the scenarios that name `requirement`, and
 * `caughtBy` must be among the failures). `ecp mutant serve NAME` starts one for a "find the bug"
 * exercise; `ecp conformance --mutants` scores a set of features by how many it detects.
 */

import { Fernet } from '../../protocol/index.ts';
import { EMBEDDED_LIMITS } from '../embedded-limits.ts';
import { type Fault, oaepWith, type ProxiedConnection, parsed } from './fault-proxy.ts';

export interface Mutant {
  /** The name people use: `no echo`. */
  name: string;
  /** The fault, in a student's words. */
  fault: string;
  /** The requirement whose scenarios are run against the mutant. */
  requirement: string;
  /** The name of a scenario that must fail (as reports print it). */
  caughtBy: string;
  build: Fault;
}

const HUGE = 64 * 1024 * 1024;
/** The pending-output limit the mutants run with (the embedded server's). */
const EMBEDDED_PENDING_OUTPUT_BYTES = EMBEDDED_LIMITS.maxPendingOutputBytes ?? 256 * 1024;

/** A chat line to the client, with `sender` replaced. */
function withSender(message: Record<string, unknown>, sender: string): string {
  return JSON.stringify({ type: 'message', sender, message: message.message, encrypted: message.encrypted });
}

/** Payload → the sender a client claimed for it (shared by the connections of one proxy). */
function trustClientSender(): Fault {
  const claimed = new Map<unknown, string>();
  return {
    fromClient: (line) => {
      const message = parsed(line);
      if (message?.type === 'message' && typeof message.sender === 'string')
        claimed.set(message.message, message.sender);
      return [line];
    },
    toClient: (line) => {
      const message = parsed(line);
      const sender = message?.type === 'message' ? claimed.get(message.message) : undefined;
      return [sender === undefined || !message ? line : withSender(message, sender)];
    },
  };
}

/** Gives every connection a name of its own upstream (`alice#3`) and hides the suffix downstream. */
function allowTakenNames(): Fault {
  const strip = (text: string) => text.replace(/#\d+\b/g, '');
  return {
    fromClient: (line, connection) => {
      const message = parsed(line);
      if (message?.type !== 'handshake' || typeof message.username !== 'string') return [line];
      return [JSON.stringify({ ...message, username: `${message.username}#${connection.id}` })];
    },
    toClient: (line) => [strip(line)],
  };
}

/** Ends a proxied connection as a server that closes it would (the member leaves the room). */
function closeConnection(connection: ProxiedConnection): string[] {
  connection.server.end();
  connection.client.end();
  return [];
}

/** Whether a line is JSON that is not an object (`[]`, `42`, `null`, ...). */
function isJsonButNotObject(line: string): boolean {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value !== 'object' || value === null || Array.isArray(value);
  } catch {
    return false;
  }
}

/** Processes the bytes after the last line feed as a line when the client ends (Go's bufio.Scanner does). */
function processFinalFragment(): Fault {
  const tails = new Map<ProxiedConnection, Buffer>();
  return {
    clientBytes: (chunk, connection) => {
      const newline = chunk.lastIndexOf(0x0a);
      const before = tails.get(connection) ?? Buffer.alloc(0);
      tails.set(connection, newline === -1 ? Buffer.concat([before, chunk]) : chunk.subarray(newline + 1));
      return chunk;
    },
    clientEnded: (connection) => {
      const tail = tails.get(connection);
      tails.delete(connection);
      return tail && tail.length > 0 ? [tail.toString('utf8')] : [];
    },
  };
}

/**
 * Relays a chat message from a connection that was never admitted, as a careless server would:
 * with the name it asked for, or with the `null` sender of a server that looks the sender up
 * among the members and finds none.
 */
function relayBeforeHandshake(sender: 'requested name' | 'null'): Fault {
  return {
    fromClient: (line, connection, proxy) => {
      const message = parsed(line);
      if (message?.type !== 'message' || connection.admitted) return [line];
      const relayed =
        sender === 'null'
          ? JSON.stringify({
              type: 'message',
              sender: null,
              message: message.message,
              encrypted: message.encrypted,
            })
          : withSender(message, connection.requestedName ?? '');
      for (const other of proxy.connections) if (other.admitted) other.toClient(relayed);
      return [];
    },
  };
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'wrong OAEP hash',
    fault: 'encrypts the room key with RSA-OAEP using SHA-1 instead of SHA-256',
    requirement: 'ECP-KX-03',
    caughtBy: "The room key is encrypted to the member's RSA key",
    build: { wrapRoomKey: (key, pem) => oaepWith('sha1', pem, Buffer.from(key, 'ascii')) },
  },
  {
    name: 'raw key bytes',
    fault: 'encrypts the 32 raw key bytes instead of the 44-character key text',
    requirement: 'ECP-KX-03',
    caughtBy: "The room key is encrypted to the member's RSA key",
    build: { wrapRoomKey: (key, pem) => oaepWith('sha256', pem, Buffer.from(key, 'base64url')) },
  },
  {
    name: 'a key per user',
    fault: 'gives each member a room key of its own',
    requirement: 'ECP-KX-02',
    caughtBy: 'Every member receives the same room key, whenever it joined',
    build: {
      wrapRoomKey: (_key, pem) => oaepWith('sha256', pem, Buffer.from(Fernet.generateKey(), 'ascii')),
    },
  },
  {
    name: 'weak key accepted',
    fault: 'admits a client whose RSA key has only 1024 bits',
    requirement: 'ECP-KX-05',
    caughtBy: 'A public key shorter than 2048 bits is refused',
    build: { wrapRoomKey: (key, pem) => oaepWith('sha256', pem, Buffer.from(key, 'ascii')) },
  },
  {
    name: 'no echo',
    fault: 'relays a chat message to the others but not back to its sender',
    requirement: 'ECP-CHAT-01',
    caughtBy: 'A chat message reaches every member, the sender included',
    build: {
      toClient: (line, connection) => {
        const message = parsed(line);
        return message?.type === 'message' && message.sender === connection.requestedName ? [] : [line];
      },
    },
  },
  {
    name: 'echo before relay',
    fault: 'echoes a chat message to its sender before relaying it to the others',
    requirement: 'ECP-CHAT-02',
    caughtBy: 'Other members receive a message before the sender gets its echo',
    build: {
      delayToClient: (line, connection) => {
        const message = parsed(line);
        return message?.type === 'message' && message.sender !== connection.requestedName ? 30 : 0;
      },
    },
  },
  {
    name: 'client-set sender trusted',
    fault: 'copies a sender field from the client into the relayed message',
    requirement: 'ECP-CHAT-03',
    caughtBy: 'A member cannot send as someone else',
    build: trustClientSender(),
  },
  {
    name: 'messages dropped under load',
    fault: 'loses one chat message in every 250 it writes',
    requirement: 'ECP-CHAT-05',
    caughtBy: 'A burst of 1,000 messages arrives complete and in order',
    build: (() => {
      let written = 0;
      return {
        toClient: (line: string) => (parsed(line)?.type === 'message' && ++written % 250 === 0 ? [] : [line]),
      };
    })(),
  },
  {
    name: 'password not checked',
    fault: 'admits a handshake whatever its password',
    requirement: 'ECP-AUTH-01',
    caughtBy: 'A wrong password is refused',
    build: {
      fromClient: (line, _connection, proxy) => {
        const message = parsed(line);
        return [
          message?.type === 'handshake'
            ? JSON.stringify({ ...message, server_password: proxy.password })
            : line,
        ];
      },
    },
  },
  {
    name: 'auth_error without closing',
    fault: 'sends auth_error for a wrong password but keeps the connection open',
    requirement: 'ECP-AUTH-01',
    caughtBy: 'A wrong password is refused',
    build: { keepClientOpen: true },
  },
  {
    name: 'taken names allowed',
    fault: 'admits a second member with a name already in the room',
    requirement: 'ECP-AUTH-03',
    caughtBy: 'A taken name is answered with a notice and the connection stays open',
    build: allowTakenNames(),
  },
  {
    name: 'taken name closes',
    fault: 'closes the connection after "Username already taken"',
    requirement: 'ECP-AUTH-05',
    caughtBy: 'After a taken name, a handshake with a free name is admitted',
    build: {
      toClient: (line, connection) => {
        if (parsed(line)?.message === 'Username already taken') setImmediate(() => connection.client.end());
        return [line];
      },
    },
  },
  {
    name: 'password repeated back',
    fault: 'puts the wrong password into its auth_error',
    requirement: 'ECP-SEC-02',
    caughtBy: 'A wrong password is never repeated back',
    build: {
      toClient: (line, connection) =>
        parsed(line)?.type === 'auth_error'
          ? [
              JSON.stringify({
                type: 'auth_error',
                message: `Invalid server password '${connection.password}'`,
              }),
            ]
          : [line],
    },
  },
  {
    name: 'no user list on leave',
    fault: 'sends no user_list to the others when a member leaves',
    requirement: 'ECP-LV-01',
    caughtBy: 'Remaining members learn that a member left',
    build: {
      toClient: (line, connection) => {
        const message = parsed(line);
        if (message?.type !== 'user_list' || !connection.lastUserList) return [line];
        const users = message.users as string[];
        return connection.lastUserList.some((name) => !users.includes(name)) ? [] : [line];
      },
    },
  },
  {
    name: 'no join notice',
    fault: 'never tells the members that someone joined',
    requirement: 'ECP-HS-05',
    caughtBy: 'Existing members are told who joined',
    build: { toClient: (line) => (/ has joined the chat"/.test(line) ? [] : [line]) },
  },
  {
    name: 'user list not in join order',
    fault: 'sorts the user list alphabetically',
    requirement: 'ECP-UL-02',
    caughtBy: 'The user list is in join order',
    build: {
      toClient: (line) => {
        const message = parsed(line);
        if (message?.type !== 'user_list') return [line];
        return [JSON.stringify({ type: 'user_list', users: [...(message.users as string[])].sort() })];
      },
    },
  },
  {
    name: 'lines split per TCP chunk',
    fault: 'treats every TCP read as a complete line',
    requirement: 'ECP-FR-03',
    caughtBy: 'A handshake sent one byte at a time is one message',
    build: {
      clientBytes: (chunk) => (chunk.at(-1) === 0x0a ? chunk : Buffer.concat([chunk, Buffer.from('\n')])),
    },
  },
  {
    name: 'blank lines between messages',
    fault: 'writes an extra line feed after every message',
    requirement: 'ECP-FR-01',
    caughtBy: 'The answer to a handshake is one JSON object on one line',
    build: { toClient: (line) => [line, ''] },
  },
  {
    name: 'relays before the handshake',
    fault: 'relays chat messages from connections that were never admitted',
    requirement: 'ECP-ERR-03',
    caughtBy: 'A chat message before the handshake is ignored',
    build: relayBeforeHandshake('requested name'),
  },
  {
    name: 'relays before the handshake with no sender',
    fault: 'relays chat messages from connections that were never admitted, with "sender": null',
    requirement: 'ECP-ERR-03',
    caughtBy: 'A chat message before the handshake is ignored',
    build: relayBeforeHandshake('null'),
  },
  {
    name: 'never sends the key',
    fault:
      'admits a handshake without ever sending the key_exchange (every scenario that joins a room is blocked)',
    requirement: 'ECP-HS-02',
    caughtBy: 'A valid handshake is admitted',
    build: { toClient: (line) => (parsed(line)?.type === 'key_exchange' ? [] : [line]) },
  },
  {
    name: 'crash on bad JSON',
    fault: 'dies on a line that is not JSON',
    requirement: 'ECP-ERR-01',
    caughtBy: 'Lines a server cannot use are ignored (a line that is not JSON)',
    build: {
      fromClient: (line, _connection, proxy) => {
        try {
          JSON.parse(line);
        } catch {
          if (line.trim() !== '') proxy.crash();
        }
        return [line];
      },
    },
  },
  {
    name: 'unbounded line buffer',
    fault: 'has no line limit: it buffers and relays a line of any length',
    requirement: 'ECP-LIM-01',
    caughtBy: "A line over the limit ends its member's connection",
    build: { serverLimits: { maxLineBytes: HUGE } },
  },
  {
    name: 'no handshake timeout',
    fault: 'waits forever for a handshake',
    requirement: 'ECP-LIM-02',
    caughtBy: 'An idle connection that never sends a handshake is closed',
    build: { serverLimits: { handshakeTimeoutMs: 3_600_000 } },
  },
  {
    name: 'slow reader stalls everyone',
    fault: 'broadcasts under one lock with blocking writes, so one member that stops reading stalls the room',
    requirement: 'ECP-LIM-03',
    caughtBy: 'A member that stops reading does not delay the others',
    build: { stallAllAboveBytes: 32 * 1024 },
  },
  {
    name: 'slow reader kept forever',
    fault: 'queues output for a member that stops reading without any limit or deadline',
    requirement: 'ECP-LIM-04',
    caughtBy: 'A member that stops reading is disconnected',
    build: { serverLimits: { maxPendingOutputBytes: HUGE, slowReaderTimeoutMs: 3_600_000 } },
  },
  {
    name: 'instantaneous slow-reader rule, one member stopped',
    fault:
      'reads every sender as fast as it arrives and disconnects whoever has more than the pending-output limit queued at any instant',
    requirement: 'ECP-LIM-07',
    caughtBy:
      'A burst far past the pending-output limit reaches every member that reads, and cuts only the one that stopped',
    build: { cutAbovePendingBytes: EMBEDDED_PENDING_OUTPUT_BYTES },
  },
  {
    name: 'instantaneous slow-reader rule, everyone reading',
    fault:
      'reads every sender as fast as it arrives and disconnects whoever has more than the pending-output limit queued at any instant',
    requirement: 'ECP-LIM-08',
    caughtBy: 'A burst far past the pending-output limit cuts nobody who reads',
    build: { cutAbovePendingBytes: EMBEDDED_PENDING_OUTPUT_BYTES },
  },
  {
    name: 'no connection limit',
    fault: 'accepts every connection',
    requirement: 'ECP-LIM-05',
    caughtBy: 'Connections beyond the connection limit are refused',
    build: { serverLimits: { maxConnections: 100_000 } },
  },
  {
    name: 'final fragment processed',
    fault: 'processes the bytes after the last line feed as a message when the client closes',
    requirement: 'ECP-FR-06',
    caughtBy: 'A fragment without a line feed at the end of a connection is not a message',
    build: processFinalFragment(),
  },
  {
    name: 'field names matched in any case',
    fault: 'reads "Type" as "type", as Go\'s encoding/json matches struct fields case-insensitively',
    requirement: 'ECP-ERR-02',
    caughtBy:
      'Objects without a known client message type are ignored before the handshake (a handshake with a wrong password whose type field is spelled Type)',
    build: {
      fromClient: (line) => {
        const message = parsed(line);
        if (!message) return [line];
        return [
          JSON.stringify(
            Object.fromEntries(Object.entries(message).map(([key, value]) => [key.toLowerCase(), value])),
          ),
        ];
      },
    },
  },
  {
    name: 'non-ASCII password crashes',
    fault:
      "drops the connection without a word when the password is not ASCII, as Python's hmac.compare_digest raises on such a str",
    requirement: 'ECP-AUTH-01',
    caughtBy: 'A wrong password with a non-ASCII character is refused',
    build: {
      fromClient: (line, connection) => {
        const message = parsed(line);
        const password = message?.type === 'handshake' ? message.server_password : undefined;
        if (typeof password === 'string' && /[^\x00-\x7f]/.test(password)) {
          connection.client.destroy();
          return [];
        }
        return [line];
      },
    },
  },
  {
    name: 'numeric username admitted',
    fault: 'admits a handshake whose username is a number, as the prototype does',
    requirement: 'ECP-ERR-10',
    caughtBy: 'A handshake with a wrongly typed field is refused (whose username is a number)',
    build: {
      fromClient: (line) => {
        const message = parsed(line);
        return message?.type === 'handshake' && typeof message.username === 'number'
          ? [JSON.stringify({ ...message, username: String(message.username) })]
          : [line];
      },
    },
  },
  {
    name: 'missing encrypted relayed',
    fault: 'relays a chat message without "encrypted" as encrypted: false, as the prototype does',
    requirement: 'ECP-ERR-05',
    caughtBy: 'A chat message with a missing or wrongly typed field is ignored (without the encrypted field)',
    build: {
      fromClient: (line) => {
        const message = parsed(line);
        return message?.type === 'message' && !('encrypted' in message)
          ? [JSON.stringify({ ...message, encrypted: false })]
          : [line];
      },
    },
  },
  {
    name: 'closes on JSON that is not an object',
    fault: 'ends the connection of a member that sends [], "hello", 42 or null, as the prototype does',
    requirement: 'ECP-ERR-08',
    caughtBy: 'JSON that is not an object is ignored (the JSON array [])',
    build: {
      fromClient: (line, connection) => (isJsonButNotObject(line) ? closeConnection(connection) : [line]),
    },
  },
  {
    name: 'crash on JSON that is not an object',
    fault: 'dies when a member sends [], "hello", 42 or null',
    requirement: 'ECP-ERR-09',
    caughtBy: 'Bad input from one member never disturbs the others (the JSON array [])',
    build: {
      fromClient: (line, _connection, proxy) => {
        if (isJsonButNotObject(line)) proxy.crash();
        return [line];
      },
    },
  },
  {
    name: 'over-long line closed without a word',
    fault: 'closes the connection of an over-long line without the line-too-long notice',
    requirement: 'ECP-LIM-06',
    caughtBy: 'The server says why it closes a connection for an over-long line',
    build: { toClient: (line) => (line.includes('"Line too long (limit ') ? [] : [line]) },
  },
  {
    name: 'silent shutdown',
    fault: 'closes every connection on shutdown without a notice',
    requirement: 'ECP-SYS-01',
    caughtBy: 'A graceful shutdown notifies every member and then closes',
    build: { silentShutdown: true },
  },
];

/** The name on a command line: `no-echo` for `no echo`. */
export function mutantSlug(mutant: Pick<Mutant, 'name'>): string {
  return mutant.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** A mutant by its name or its slug (`no echo`, `no-echo`), ignoring case. */
export function findMutant(name: string): Mutant | undefined {
  const wanted = name.trim().toLowerCase();
  return MUTANTS.find((mutant) => mutant.name.toLowerCase() === wanted || mutantSlug(mutant) === wanted);
}
