/**
 * An ECP v1 chat server: the TypeScript starter of labs/starters/typescript with every lab done.
 *
 * The kit's tests run it through every lab (test/labs/). It keeps the starter's layout, so a
 * teacher can compare a student's server with it section by section. Node's own modules only.
 *
 *   npx tsx server.ts --port 8888 --password secret123 [--max-line-bytes N] ...
 */
import {
  constants,
  createHash,
  createPublicKey,
  type KeyObject,
  publicEncrypt,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

// The texts of docs/protocol.md section 9: use them exactly.
const WELCOME = (name: string) => `Welcome ${name}! Establishing secure connection...`;
const SECURE = 'Secure connection established! You can now send encrypted messages.';
const JOINED = (name: string) => `${name} has joined the chat`;
const LEFT = (name: string) => `${name} has left the chat`;
const TAKEN = 'Username already taken';
const SHUTTING_DOWN = 'Server is shutting down';
const LINE_TOO_LONG = (limit: number) => `Line too long (limit ${limit} bytes); closing connection`;
const INVALID_PASSWORD = 'Invalid server password';
const INVALID_HANDSHAKE = (problem: string) => `Invalid handshake: ${problem}`;
const INVALID_USERNAME = (max: number) => `Invalid username: must be 1-${max} printable characters`;
const INVALID_PUBLIC_KEY = (reason: string) => `Invalid public key: ${reason}`;
const HANDSHAKE_TIMEOUT = 'Handshake timeout';
const SERVER_FULL = 'Server full';

/** After refusing a connection, how long it may take to read our last line before we hang up. */
const CLOSE_GRACE_MS = 1000;
/** How long a graceful shutdown may take before the remaining connections are dropped. */
const SHUTDOWN_GRACE_MS = 1500;

interface Options {
  host: string;
  port: number;
  password: string;
  maxLineBytes: number;
  handshakeTimeoutMs: number;
  maxPendingOutputBytes: number;
  maxConnections: number;
  maxUsernameLength: number;
  slowReaderTimeoutMs: number;
  maxTotalOutputBytes: number;
}

function parseContract(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8888' },
      password: { type: 'string', default: 'secret123' },
      'max-line-bytes': { type: 'string', default: '1048576' },
      'handshake-timeout-ms': { type: 'string', default: '10000' },
      'max-pending-output-bytes': { type: 'string', default: '8388608' },
      'max-connections': { type: 'string', default: '10000' },
      'max-username-length': { type: 'string', default: '32' },
      // Flow control (lab 7), as the reference server names them.
      'slow-reader-timeout-ms': { type: 'string', default: '5000' },
      'max-total-output-bytes': { type: 'string', default: String(256 * 1024 * 1024) },
    },
  });
}

/** The command-line contract (docs/protocol.md section 15): exit 2 for an unknown flag or a bad value. */
function parseOptions(argv: string[]): Options {
  let parsed: ReturnType<typeof parseContract>;
  try {
    parsed = parseContract(argv);
  } catch (error) {
    console.error((error as Error).message); // an unknown flag, or one without its value
    process.exit(2);
  }
  const { values } = parsed;
  const number = (name: keyof typeof values): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0) {
      console.error(`--${name} needs a whole number, got ${values[name]}`);
      process.exit(2);
    }
    return value;
  };
  return {
    host: String(values.host),
    port: number('port'),
    password: String(values.password),
    maxLineBytes: number('max-line-bytes'),
    handshakeTimeoutMs: number('handshake-timeout-ms'),
    maxPendingOutputBytes: number('max-pending-output-bytes'),
    maxConnections: number('max-connections'),
    maxUsernameLength: number('max-username-length'),
    slowReaderTimeoutMs: number('slow-reader-timeout-ms'),
    maxTotalOutputBytes: number('max-total-output-bytes'),
  };
}

/** One line per event on stderr. Never pass the received password here (ECP-SEC-02). */
function log(event: string, fields: Record<string, unknown> = {}): void {
  const details = Object.entries(fields)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(' ');
  console.error(`${new Date().toISOString().slice(11, 19)} ${event} ${details}`.trimEnd());
}

/** Work not done yet: the starter's TODOs throw it; none is left here. */
class Todo extends Error {
  override name = 'Todo';
}

// ---------------------------------------------------------------------------------------------
// Lab 1: framing and JSON (protocol.md sections 2, 3 and 11), and refusing a wrong password
// ---------------------------------------------------------------------------------------------

/** A line grew past the line limit (lab 6). */
class LineTooLong extends Error {
  override name = 'LineTooLong';
}

/** Cuts a byte stream into lines at each "\n", however TCP splits the bytes. */
class LineSplitter {
  readonly maxLineBytes: number;
  buffer: Buffer = Buffer.alloc(0);
  /** Bytes of the buffer already searched for a line feed. */
  scanned = 0;

  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Adds bytes; returns the complete lines (without "\n" or a final "\r"). */
  feed(data: Buffer): Buffer[] {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const end = this.buffer.indexOf(0x0a, Math.max(start, this.scanned));
      if (end < 0) break;
      const line =
        this.buffer[end - 1] === 0x0d && end > start
          ? this.buffer.subarray(start, end - 1)
          : this.buffer.subarray(start, end);
      if (line.length > this.maxLineBytes) throw new LineTooLong();
      lines.push(Buffer.from(line));
      start = end + 1;
    }
    this.buffer = this.buffer.subarray(start);
    this.scanned = this.buffer.length;
    // An unfinished line already over the limit will never fit (a final "\r" may still be part of
    // a line ending).
    const pending = this.buffer.length - (this.buffer[this.buffer.length - 1] === 0x0d ? 1 : 0);
    if (pending > this.maxLineBytes) throw new LineTooLong();
    return lines;
  }
}

/** A client message: a JSON object whose type is `handshake` or `message`; fields unchecked. */
type ClientMessage = { type: 'handshake' | 'message' } & Record<string, unknown>;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The message a line carries if it is a client message, else undefined. */
function parseMessage(line: Buffer): ClientMessage | undefined {
  let value: unknown;
  try {
    const text = UTF8.decode(line);
    if (text.trim() === '') return undefined;
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const type = (value as Record<string, unknown>).type;
  return type === 'handshake' || type === 'message' ? (value as ClientMessage) : undefined;
}

/** One message as one line: a JSON object, then exactly one "\n" (ECP-FR-01). */
function encode(message: Record<string, unknown>): Buffer {
  // ASCII only, as the prototype writes: non-ASCII as \uXXXX (JSON.stringify escapes line feeds).
  const json = JSON.stringify(message).replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return Buffer.from(`${json}\n`, 'ascii');
}

// ---------------------------------------------------------------------------------------------
// Labs 1 and 2: handshake and password (protocol.md sections 4.1 and 5)
// ---------------------------------------------------------------------------------------------

/** Send `auth_error` with this text, then close the connection. */
class Refused extends Error {
  override name = 'Refused';
}

/** Answer with the taken-name notice; the connection stays open for another try. */
class NameTaken extends Error {
  override name = 'NameTaken';
}

/** Throws Refused unless username, server_password and public_key are all strings. */
function checkHandshakeFields(message: ClientMessage): void {
  for (const field of ['username', 'server_password', 'public_key']) {
    if (!(field in message)) throw new Refused(INVALID_HANDSHAKE(`missing field '${field}'`));
    if (typeof message[field] !== 'string') {
      throw new Refused(INVALID_HANDSHAKE(`field '${field}' must be a string`));
    }
  }
}

/** Whether the passwords are equal, compared in constant time (ECP-SEC-02). */
function passwordMatches(received: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(received), digest(expected));
}

/** 1 to maxLength code points, none of Unicode category Cc (ECP-AUTH-06). */
function validUsername(name: string, maxLength: number): boolean {
  const length = [...name].length;
  return length > 0 && length <= maxLength && !/\p{Cc}/u.test(name);
}

// ---------------------------------------------------------------------------------------------
// Lab 3: key exchange (protocol.md section 6)
// ---------------------------------------------------------------------------------------------

/** The RSA public key of a handshake; throws Refused with the reason when it is unusable. */
function loadClientKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    if (!/^\s*-----BEGIN PUBLIC KEY-----/.test(pem)) throw new Error('not SPKI');
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Refused(INVALID_PUBLIC_KEY('not a PEM SubjectPublicKeyInfo'));
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Refused(INVALID_PUBLIC_KEY('not an RSA key'));
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new Refused(INVALID_PUBLIC_KEY(`modulus is ${bits} bits; at least 2048 required`));
  return key;
}

/** encrypted_key: standard base64 of RSA-OAEP(SHA-256, MGF1-SHA-256) of the key's 44-byte text. */
function wrapRoomKey(clientKey: KeyObject, roomKey: Buffer): string {
  return publicEncrypt(
    { key: clientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    roomKey,
  ).toString('base64');
}

/** A Fernet key as its 44-character text: base64url of 32 random bytes, with its one "=". */
function newRoomKey(): Buffer {
  return Buffer.from(`${randomBytes(32).toString('base64url')}=`, 'ascii');
}

// ---------------------------------------------------------------------------------------------
// Labs 3, 4, 5 and 7: the room, relay and echo, user lists and notices, slow readers
// ---------------------------------------------------------------------------------------------

/** One client: its socket, and its name once admitted. */
class Connection {
  readonly server: ChatServer;
  readonly socket: Socket;
  readonly peer: string;
  readonly openedAt = Date.now();
  name: string | undefined;
  closing = false;
  /** Complete lines read and not processed yet (input waits while the room is behind). */
  readonly input: Buffer[] = [];
  /** Bytes ever queued; minus what is still buffered, what was written. */
  queued = 0;
  /** What was written, as the flow watch last saw it, and when that last grew. */
  written = 0;
  progressAt = Date.now();

  constructor(server: ChatServer, socket: Socket) {
    this.server = server;
    this.socket = socket;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
  }

  /** Queues one encoded line; never waits for the client to read it. */
  sendLine(line: Buffer): void {
    if (this.closing) return;
    this.socket.write(line);
    this.queued += line.length;
    const pending = this.socket.writableLength;
    if (pending > this.server.options.maxPendingOutputBytes) this.server.flow.cut(this, 'cap');
    else this.server.flow.note(this, pending);
  }

  send(message: Record<string, unknown>): void {
    this.sendLine(encode(message));
  }
}

/**
 * Backpressure and slow readers (ECP-LIM-03, 04, 06, 07), as the reference server does them. A
 * member whose unwritten output passes the high watermark is behind until it drains; while anyone
 * is behind (or all output together passes the total budget) no connection's input is read or
 * processed, so the senders slow down to the readers' pace and nobody who reads is cut. A member
 * whose output makes no progress for the slow-reader timeout, or passes the pending-output limit,
 * is disconnected.
 */
class Flow {
  readonly server: ChatServer;
  readonly high: number;
  readonly low: number;
  readonly behind = new Set<Connection>();
  overBudget = false;

  constructor(server: ChatServer) {
    this.server = server;
    this.high = Math.max(2, Math.min(Math.floor(server.options.maxPendingOutputBytes / 4), 1024 * 1024));
    this.low = Math.floor(this.high / 2);
  }

  get clear(): boolean {
    return this.behind.size === 0 && !this.overBudget;
  }

  note(connection: Connection, pending: number): void {
    if (pending <= this.high || this.behind.has(connection)) return;
    this.behind.add(connection);
    this.server.pauseInput();
    connection.socket.once('drain', () => this.forget(connection));
  }

  forget(connection: Connection | undefined): void {
    if (connection) this.behind.delete(connection);
    if (this.clear) this.server.resumeInput();
  }

  cut(connection: Connection, rule: string): void {
    log('slow reader disconnected', { peer: connection.peer, name: connection.name, rule });
    connection.closing = true;
    connection.socket.destroy(); // its 'close' handler makes it leave the room
    this.forget(connection);
  }

  /** Every 100 ms: slow readers by the timeout, members caught up, the total output budget. */
  watch(): NodeJS.Timeout {
    return setInterval(() => {
      const now = Date.now();
      let total = 0;
      for (const connection of [...this.server.connections]) {
        const pending = connection.socket.writableLength;
        total += pending;
        const written = connection.queued - pending;
        if (pending === 0 || written > connection.written) {
          connection.written = written;
          connection.progressAt = now;
        } else if (now - connection.progressAt > this.server.options.slowReaderTimeoutMs) {
          this.cut(connection, 'timeout');
          continue;
        }
        if (pending <= this.low) this.behind.delete(connection);
      }
      const wasClear = this.clear;
      this.overBudget = total > this.server.options.maxTotalOutputBytes;
      if (this.overBudget && wasClear) this.server.pauseInput();
      this.forget(undefined);
    }, 100).unref();
  }
}

/** The members, in join order (a Map keeps insertion order). */
class Room {
  readonly members = new Map<string, Connection>();

  broadcast(message: Record<string, unknown>, exclude?: Connection): void {
    const line = encode(message); // serialise once for everyone
    for (const member of [...this.members.values()]) if (member !== exclude) member.sendLine(line);
  }

  userList(): Record<string, unknown> {
    return { type: 'user_list', users: [...this.members.keys()] };
  }

  /** Admits a connection: its four join lines, then the others' user list and notice. */
  join(connection: Connection, name: string, encryptedKey: string): void {
    this.members.set(name, connection);
    connection.name = name;
    connection.send({ type: 'system', message: WELCOME(name) });
    connection.send({ type: 'key_exchange', encrypted_key: encryptedKey });
    connection.send({ type: 'system', message: SECURE });
    connection.send(this.userList());
    this.broadcast(this.userList(), connection);
    this.broadcast({ type: 'system', message: JOINED(name) }, connection);
  }

  leave(connection: Connection): void {
    if (connection.name === undefined || this.members.get(connection.name) !== connection) return;
    this.members.delete(connection.name);
    this.broadcast(this.userList());
    this.broadcast({ type: 'system', message: LEFT(connection.name) });
  }

  /** To every other member first, then the echo to the sender, with the sender set by us. */
  relay(sender: Connection, message: ClientMessage): void {
    const { message: payload, encrypted } = message;
    if (typeof payload !== 'string' || typeof encrypted !== 'boolean') return; // ECP-ERR-05
    const line = encode({ type: 'message', sender: sender.name, message: payload, encrypted });
    for (const member of [...this.members.values()]) if (member !== sender) member.sendLine(line);
    sender.sendLine(line);
  }
}

// ---------------------------------------------------------------------------------------------
// The server: connections, handshake timeout, limits, shutdown
// ---------------------------------------------------------------------------------------------

class ChatServer {
  readonly options: Options;
  readonly room = new Room();
  /** 44 ASCII bytes, one key for the server's lifetime. */
  readonly roomKey = newRoomKey();
  readonly connections = new Set<Connection>();
  readonly flow: Flow;
  shuttingDown = false;

  constructor(options: Options) {
    this.options = options;
    this.flow = new Flow(this);
  }

  /** Backpressure: stop reading every connection (TCP then slows the senders down). */
  pauseInput(): void {
    for (const connection of this.connections) connection.socket.pause();
  }

  resumeInput(): void {
    for (const connection of [...this.connections]) {
      if (connection.closing) continue;
      connection.socket.resume();
      this.processInput(connection);
    }
  }

  /** Processes a connection's waiting lines, one at a time, while the room is not behind. */
  processInput(connection: Connection): void {
    try {
      while (connection.input.length > 0 && this.flow.clear && !connection.closing) {
        const message = parseMessage(connection.input.shift() as Buffer);
        if (message) this.onMessage(connection, message);
      }
    } catch (error) {
      this.onError(connection, error);
    }
  }

  handle(socket: Socket): void {
    const connection = new Connection(this, socket);
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.on('error', () => {}); // a reset: 'close' follows
    if (this.connections.size >= this.options.maxConnections) {
      log('refused', { peer: connection.peer, reason: SERVER_FULL });
      socket.on('data', () => {}); // read what it sends, so it gets no reset
      this.refuse(connection, SERVER_FULL);
      return;
    }
    this.connections.add(connection);
    const splitter = new LineSplitter(this.options.maxLineBytes);
    const timer = setTimeout(() => {
      if (connection.name === undefined && !connection.closing)
        this.onError(connection, new Refused(HANDSHAKE_TIMEOUT));
    }, this.options.handshakeTimeoutMs);
    if (!this.flow.clear) socket.pause();
    socket.on('data', (data: Buffer) => {
      if (connection.closing) return;
      try {
        connection.input.push(...splitter.feed(data));
      } catch (error) {
        this.onError(connection, error); // a line too long ends the connection at once
        return;
      }
      this.processInput(connection);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.depart(connection);
    });
  }

  onError(connection: Connection, error: unknown): void {
    if (error instanceof Refused) {
      log('refused', { peer: connection.peer, reason: error.message });
      this.refuse(connection, error.message);
    } else if (error instanceof LineTooLong) {
      log('line too long', { peer: connection.peer, name: connection.name });
      connection.send({ type: 'system', message: LINE_TOO_LONG(this.options.maxLineBytes) });
      this.depart(connection);
      this.closeGracefully(connection);
    } else if (error instanceof Todo) {
      log('not implemented yet', { todo: error.message });
      this.depart(connection);
      connection.socket.destroy();
    } else {
      // A bug costs this connection, not the server.
      log('error', { peer: connection.peer, error: String((error as Error)?.stack ?? error) });
      this.depart(connection);
      connection.socket.destroy();
    }
  }

  /** The connection is over: it gets nothing more, and the room hears of it once. */
  depart(connection: Connection): void {
    connection.closing = true;
    this.connections.delete(connection);
    if (connection.name !== undefined && !this.shuttingDown) {
      const name = connection.name;
      try {
        this.room.leave(connection);
      } catch (error) {
        log('error', { error: String(error) });
      }
      connection.name = undefined;
      log('left', { name });
    }
  }

  onMessage(connection: Connection, message: ClientMessage): void {
    if (message.type === 'message') {
      if (connection.name !== undefined) this.room.relay(connection, message);
      return; // ECP-ERR-03: a chat message before admission is ignored
    }
    if (connection.name !== undefined) return; // ECP-ERR-04: a second handshake is ignored
    let admitted: { name: string; encryptedKey: string };
    try {
      admitted = this.checkHandshake(message);
    } catch (error) {
      if (!(error instanceof NameTaken)) throw error;
      connection.send({ type: 'system', message: TAKEN });
      return;
    }
    // Nothing runs between the taken-name check and the join: nobody can take the name
    // meanwhile, and no broadcast can fall between the four join lines.
    this.room.join(connection, admitted.name, admitted.encryptedKey);
    log('joined', { name: admitted.name, users: this.room.members.size });
  }

  /** In the order of protocol.md section 4.1; the first failing check decides. */
  checkHandshake(message: ClientMessage): { name: string; encryptedKey: string } {
    checkHandshakeFields(message);
    if (!passwordMatches(message.server_password as string, this.options.password)) {
      throw new Refused(INVALID_PASSWORD);
    }
    const name = message.username as string;
    if (!validUsername(name, this.options.maxUsernameLength)) {
      throw new Refused(INVALID_USERNAME(this.options.maxUsernameLength));
    }
    if (this.room.members.has(name)) throw new NameTaken();
    const clientKey = loadClientKey(message.public_key as string);
    return { name, encryptedKey: wrapRoomKey(clientKey, this.roomKey) };
  }

  refuse(connection: Connection, text: string): void {
    connection.send({ type: 'auth_error', message: text });
    this.depart(connection);
    this.closeGracefully(connection);
  }

  /** Our last line first, then end of file; read what the client still sends so it gets no reset. */
  closeGracefully(connection: Connection): void {
    connection.closing = true;
    connection.socket.end();
    setTimeout(() => connection.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** SIGTERM or SIGINT: close every connection (flushing what is queued) within the grace period. */
  shutdown(listener: NetServer): void {
    this.shuttingDown = true;
    listener.close();
    for (const connection of [...this.connections]) {
      if (connection.name !== undefined) connection.send({ type: 'system', message: SHUTTING_DOWN });
      connection.closing = true;
      connection.socket.end(); // flushes what is queued, then closes
    }
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    const poll = setInterval(() => {
      if (this.connections.size === 0 || Date.now() > deadline) {
        clearInterval(poll);
        log('stopped');
        process.exit(0);
      }
    }, 20);
  }
}

function main(): void {
  const options = parseOptions(process.argv.slice(2));
  const server = new ChatServer(options);
  const listener = createServer((socket) => server.handle(socket));
  // Before listening: a SIGTERM that comes as soon as we say we listen is handled.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.shutdown(listener));
  server.flow.watch();
  listener.on('error', (error) => {
    console.error(`cannot listen on ${options.host}:${options.port}: ${error.message}`);
    process.exit(1);
  });
  listener.listen(options.port, options.host, () => {
    console.log(`ECP server listening on ${options.host}:${options.port}`);
  });
}

main();
