/**
 * The catalogue of deliberately broken servers ("mutants"), each with the one fault it has and the
 * scenario of the conformance kit that must catch it. A mutant the kit does not catch is a hole in
 * the kit. Mutants run the scenarios that name `requirement`; `caughtBy` must be among the failures.
 */
import { EMBEDDED_LIMITS } from '../../conformance/command.ts';
import { Fernet } from '../../protocol/index.ts';
import { type Fault, oaepWith, parsed } from './fault-proxy.ts';

export interface Mutant {
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

/** Relays a chat message from a connection that was never admitted, as a careless server would. */
function relayBeforeHandshake(): Fault {
  return {
    fromClient: (line, connection, proxy) => {
      const message = parsed(line);
      if (message?.type !== 'message' || connection.admitted) return [line];
      const relayed = withSender(message, connection.requestedName ?? '');
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
    caughtBy: 'Every line the server sends is one well-formed message',
    build: { toClient: (line) => [line, ''] },
  },
  {
    name: 'relays before the handshake',
    fault: 'relays chat messages from connections that were never admitted',
    requirement: 'ECP-ERR-03',
    caughtBy: 'A chat message before the handshake is ignored',
    build: relayBeforeHandshake(),
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
    caughtBy: 'A line over the limit is refused and its member leaves',
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
    requirement: 'ECP-LIM-06',
    caughtBy:
      'A burst far past the pending-output limit reaches every member that reads, and cuts only the one that stopped',
    build: { cutAbovePendingBytes: EMBEDDED_PENDING_OUTPUT_BYTES },
  },
  {
    name: 'instantaneous slow-reader rule, everyone reading',
    fault:
      'reads every sender as fast as it arrives and disconnects whoever has more than the pending-output limit queued at any instant',
    requirement: 'ECP-LIM-06',
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
    name: 'silent shutdown',
    fault: 'closes every connection on shutdown without a notice',
    requirement: 'ECP-SYS-01',
    caughtBy: 'A graceful shutdown notifies every member and then closes',
    build: { silentShutdown: true },
  },
];
