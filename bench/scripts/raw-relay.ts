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
 * With --tls-port and --ws-port it also listens on TLS and on WebSocket, one room for all, as the
 * reference server does with several --listen: each transport's floor, so the reference server's
 * TLS / TCP and WebSocket / TCP ratios can be set against what the platform (node:tls, the kernel,
 * ws's framing, done once per turn and shared as the reference server does) allows at all.
 *
 *   npx tsx bench/scripts/raw-relay.ts --port 8888 [--password secret123]
 *     [--tls-port 8443 --tls-cert cert.pem --tls-key key.pem] [--ws-port 8080]
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { WebSocketServer } from 'ws';
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
import { TLS_CIPHERS, TLS_MIN_VERSION } from '../../transport/tls.ts';
import { textFrame } from '../../transport/websocket-frames.ts';
import { ECP_SUBPROTOCOL } from '../../transport/websocket-mapping.ts';
import { PASSWORD, scriptOptions } from './harness.ts';

const options = scriptOptions(
  import.meta.filename,
  'A relay of the bench traffic without JSON: the CPU floor.',
  {
    port: { type: 'number', demandOption: true, min: 0, whole: true, describe: 'TCP port on 127.0.0.1' },
    password: { type: 'string', default: PASSWORD, describe: 'The server password' },
    'tls-port': { type: 'number', min: 0, whole: true, describe: 'Also listen on TLS, on this port' },
    'tls-cert': { type: 'string', describe: 'With --tls-port: certificate (PEM file)' },
    'tls-key': { type: 'string', describe: 'With --tls-port: private key (PEM file)' },
    'ws-port': {
      type: 'number',
      min: 0,
      whole: true,
      describe: 'Also listen on WebSocket (ws://, any path)',
    },
  },
);

const CHAT_START = Buffer.from('{"type":"message",', 'latin1');
const roomKey = Fernet.generateKey();

interface Member {
  readonly socket: Socket;
  /** A WebSocket member gets frames: each line as a text frame, written to its socket as bytes. */
  readonly framed: boolean;
  /** `{"type":"message","sender":"name",` */
  prefix: Buffer | undefined;
  name: string;
}

const members: Member[] = [];
/** Chat lines relayed this turn, in order: joined once and written to every member at the turn's end. */
let turn: Buffer[] = [];
let turnBytes = 0;

function flushTurn(): void {
  const lines = turn;
  const joined = Buffer.concat(lines, turnBytes);
  // Framed once for all WebSocket members, if there are any.
  let frames: Buffer | undefined;
  turn = [];
  turnBytes = 0;
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!;
    if (!member.framed) {
      member.socket.write(joined);
      continue;
    }
    frames ??= Buffer.concat(lines.map(textFrame));
    member.socket.write(frames);
  }
}

/** Lines to one member: as they are, or as text frames. */
function send(member: Member, lines: Buffer): void {
  if (!member.framed) {
    member.socket.write(lines);
    return;
  }
  const frames: Buffer[] = [];
  for (let start = 0; start < lines.length; ) {
    const end = lines.indexOf(0x0a, start) + 1;
    frames.push(textFrame(lines.subarray(start, end)));
    start = end;
  }
  member.socket.write(Buffer.concat(frames));
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
    send(member, encodeLine({ type: 'auth_error', message: 'Invalid handshake' }));
    member.socket.end();
    return;
  }
  const { username, public_key } = parsed.message;
  member.name = username;
  members.push(member);
  const users = members.map((m) => m.name);
  const sequence = joinSequence(username, wrapRoomKey(roomKey, importHandshakeKey(public_key)), users);
  send(member, Buffer.concat(sequence.map(encodeLine)));
  const announcement = Buffer.concat(joinAnnouncement(username, users).map(encodeLine));
  for (const other of members) if (other !== member) send(other, announcement);
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
  for (const other of members) send(other, announcement);
}

/** A byte-stream member (TCP, TLS): its lines come from the socket, split by the LineDecoder. */
function onByteStream(socket: Socket): void {
  socket.setNoDelay(true);
  const member: Member = { socket, framed: false, prefix: undefined, name: '' };
  const decoder = new LineDecoder({ maxLineBytes: 1 << 20 });
  const sink = {
    line: (bytes: Buffer, start: number, end: number) => receive(member, bytes, start, end),
    error: () => socket.destroy(),
  };
  socket.on('data', (chunk: Buffer) => decoder.scan(chunk, sink));
  socket.on('error', () => {});
  socket.on('close', () => leave(member));
}

function receive(member: Member, bytes: Buffer, start: number, end: number): void {
  if (member.prefix !== undefined) {
    if (isChat(bytes, start, end)) relay(member, bytes, start, end);
  } else if (member.name === '') {
    join(member, bytes.toString('latin1', start, end));
  }
}

const announce = (transport: string, port: number) =>
  process.stdout.write(`raw relay on ${transport}://127.0.0.1:${port}${transport === 'ws' ? '/' : ''}\n`);

const server = createServer(onByteStream);
server.listen(options.port, '127.0.0.1', () => {
  const address = server.address();
  announce('tcp', typeof address === 'object' && address ? address.port : options.port);
});

if (options['tls-port'] !== undefined) {
  if (options['tls-cert'] === undefined || options['tls-key'] === undefined) {
    throw new Error('--tls-port needs --tls-cert and --tls-key');
  }
  // The reference server's TLS settings, so the two pay for the same cipher.
  const tlsServer = createTlsServer(
    {
      cert: readFileSync(options['tls-cert']),
      key: readFileSync(options['tls-key']),
      minVersion: TLS_MIN_VERSION,
      ciphers: TLS_CIPHERS,
    },
    onByteStream,
  );
  tlsServer.listen(options['tls-port'], '127.0.0.1', () => announce('tls', options['tls-port']!));
}

if (options['ws-port'] !== undefined) {
  const httpServer = createHttpServer();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (offered) => (offered.has(ECP_SUBPROTOCOL) ? ECP_SUBPROTOCOL : false),
  });
  httpServer.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket as Socket, head, (ws) => {
      (socket as Socket).setNoDelay(true);
      const member: Member = { socket: socket as Socket, framed: true, prefix: undefined, name: '' };
      // A frame is one line without its line feed: the same receive as a byte stream's line.
      ws.on('message', (data: Buffer) => receive(member, data, 0, data.length));
      ws.on('error', () => {});
      ws.on('close', () => leave(member));
    });
  });
  httpServer.listen(options['ws-port'], '127.0.0.1', () => announce('ws', options['ws-port']!));
}
