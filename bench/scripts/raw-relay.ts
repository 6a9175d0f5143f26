/**
 * The floor a relay of the bench's traffic cannot go below on this machine: a server that does
 * the v1 join properly (the room key wrapped for each member, the join sequence) and then relays
 * every chat line to every member as bytes, without JSON: it splices the sender's name into the
 * line (`{"type":"message",` + `"sender":"name",` + the rest, the same bytes the reference server
 * sends) and writes everything queued in one event-loop turn as one Buffer, shared by all members,
 * in one write each. No limits, flow control, logs or metrics: what is left is the kernel's work
 * and the least JavaScript a relay needs. The reference server's CPU per delivery is compared
 * with this one's in the same run (bench/scripts/lean.ts). Not a server to use: it trusts its
 * clients (no handshake checks beyond the password, no bounds on output).
 *
 *   npx tsx bench/scripts/raw-relay.ts --port 8888 [--password secret123]
 */
import { createServer, type Socket } from 'node:net';
import {
  Fernet,
  joinAnnouncement,
  joinSequence,
  LineDecoder,
  leaveAnnouncement,
  parseClientMessage,
  stringifyAscii,
  wrapRoomKey,
} from '../../protocol/index.ts';
import { encodeLine } from '../../reference-server/line-encoder.ts';
import { importHandshakeKey } from '../../reference-server/public-key.ts';
import { PASSWORD, scriptOptions } from './harness.ts';

const options = scriptOptions(
  import.meta.filename,
  'A relay of the bench traffic without JSON: the CPU floor.',
  {
    port: { type: 'number', demandOption: true, min: 0, whole: true, describe: 'TCP port on 127.0.0.1' },
    password: { type: 'string', default: PASSWORD, describe: 'The server password' },
  },
);

const CHAT_START = Buffer.from('{"type":"message",', 'latin1');
const roomKey = Fernet.generateKey();

interface Member {
  readonly socket: Socket;
  /** `{"type":"message","sender":"name",` */
  prefix: Buffer | undefined;
  name: string;
}

const members: Member[] = [];
/** Chat lines relayed this turn, in order: joined once and written to every member at the turn's end. */
let turn: Buffer[] = [];
let turnBytes = 0;

function flushTurn(): void {
  const joined = Buffer.concat(turn, turnBytes);
  turn = [];
  turnBytes = 0;
  for (let i = 0; i < members.length; i++) members[i]!.socket.write(joined);
}

function relay(member: Member, bytes: Buffer, start: number, end: number): void {
  const prefix = member.prefix!;
  const rest = end - start - CHAT_START.length;
  const line = Buffer.allocUnsafe(prefix.length + rest + 1);
  prefix.copy(line, 0);
  bytes.copy(line, prefix.length, start + CHAT_START.length, end);
  line[line.length - 1] = 0x0a;
  if (turn.length === 0) setImmediate(flushTurn);
  turn.push(line);
  turnBytes += line.length;
}

function isChat(bytes: Buffer, start: number, end: number): boolean {
  if (end - start <= CHAT_START.length) return false;
  for (let i = 0; i < CHAT_START.length; i++) if (bytes[start + i] !== CHAT_START[i]) return false;
  return true;
}

function join(member: Member, line: string): void {
  const parsed = parseClientMessage(line);
  if (
    !parsed.ok ||
    parsed.message.type !== 'handshake' ||
    parsed.message.server_password !== options.password
  ) {
    member.socket.end(encodeLine({ type: 'auth_error', message: 'Invalid handshake' }));
    return;
  }
  const { username, public_key } = parsed.message;
  member.name = username;
  members.push(member);
  const users = members.map((m) => m.name);
  const sequence = joinSequence(username, wrapRoomKey(roomKey, importHandshakeKey(public_key)), users);
  member.socket.write(Buffer.concat(sequence.map(encodeLine)));
  const announcement = Buffer.concat(joinAnnouncement(username, users).map(encodeLine));
  for (const other of members) if (other !== member) other.socket.write(announcement);
  member.prefix = Buffer.from(
    `${CHAT_START.toString('latin1')}"sender":${stringifyAscii(username)},`,
    'latin1',
  );
}

function leave(member: Member): void {
  const index = members.indexOf(member);
  if (index < 0) return;
  members.splice(index, 1);
  const announcement = Buffer.concat(
    leaveAnnouncement(
      member.name,
      members.map((m) => m.name),
    ).map(encodeLine),
  );
  for (const other of members) other.socket.write(announcement);
}

const server = createServer({ noDelay: true }, (socket) => {
  const member: Member = { socket, prefix: undefined, name: '' };
  const decoder = new LineDecoder({ maxLineBytes: 1 << 20 });
  const sink = {
    line: (bytes: Buffer, start: number, end: number) => {
      if (member.prefix !== undefined) {
        if (isChat(bytes, start, end)) relay(member, bytes, start, end);
      } else if (member.name === '') {
        join(member, bytes.toString('latin1', start, end));
      }
    },
    error: () => socket.destroy(),
  };
  socket.on('data', (chunk: Buffer) => decoder.scan(chunk, sink));
  socket.on('error', () => {});
  socket.on('close', () => leave(member));
});
server.listen(options.port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `raw relay on tcp://127.0.0.1:${typeof address === 'object' && address ? address.port : options.port}\n`,
  );
});
