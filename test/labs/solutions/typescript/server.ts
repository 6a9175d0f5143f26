// starter begin
//| /**
//|  * ECP v1 chat server: the TypeScript starter of the ECP labs (docs/labs/README.md).
//|  *
//|  * What is here already: the command-line contract (docs/protocol.md section 15), the listening
//|  * socket, one object per connection, logging, and a clean exit on SIGTERM or Ctrl-C. What is
//|  * not: everything marked TODO(lab N). Work through the labs in order; each lab's page says
//|  * which TODOs it needs, which sections of docs/protocol.md to read, and the one command that
//|  * checks your work.
//|  *
//|  *   npm ci                                      (once: installs tsx, from package.json)
//|  *   node --import tsx server.ts --port 8888 --password secret123
//|  *   npm start -- --port 8888 --password secret123                   (the same, through npm)
//|  *
//|  * Only Node's own modules (node:net, node:crypto) at run time; tsx runs the TypeScript on Node
//|  * 20. The file uses only TypeScript that type stripping can erase (no enums, no parameter
//|  * properties), so on Node 22.6 or later `node --experimental-strip-types server.ts` runs it too.
//|  *
//|  * A TODO you have not done yet throws a Todo error: the server logs it and closes that
//|  * connection, and keeps serving the others.
//|  *
//|  * Node is single-threaded: `socket.write()` queues bytes and never blocks, and nothing else runs
//|  * while one handler runs. Keep it that way and lab 7 (slow readers) is a few lines.
//|  */
/**
 * An ECP v1 chat server: the TypeScript starter of labs/starters/typescript with every lab done.
 *
 * The kit's tests run it through every lab (test/labs/). The starter is written from this file
 * (`npm run labs:starters`, labs/generate-starters.ts): what lies between `// starter begin` and
 * `// starter end` is the students' work, and the `//|` lines are what the starter has in its
 * place. Node's own modules only.
 *
 *   node --import tsx server.ts --port 8888 --password secret123 [--max-line-bytes N] ...
 */
// starter end
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
      // Flow control (lab 7), as the reference server names it.
      'slow-reader-timeout-ms': { type: 'string', default: '5000' },
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
  };
}

/** One line per event on stderr. Never pass the received password here (ECP-SEC-02). */
function log(event: string, fields: Record<string, unknown> = {}): void {
  const details = Object.entries(fields)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(' ');
  console.error(`${new Date().toISOString().slice(11, 19)} ${event} ${details}`.trimEnd());
}

// starter begin
//| /** Work not done yet: thrown by every TODO below, logged, and costs only that connection. */
/** Work not done yet: the starter's TODOs throw it; none is left here. */
// starter end
class Todo extends Error {
  override name = 'Todo';
}
// starter begin
//|
//| function todo(what: string): never {
//|   throw new Todo(`TODO(${what})`);
//| }
// starter end

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
  // starter begin
  /** Bytes of the buffer already searched for a line feed. */
  scanned = 0;
  // starter end

  constructor(maxLineBytes: number) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Adds bytes; returns the complete lines (without "\n" or a final "\r"). */
  feed(data: Buffer): Buffer[] {
    // starter begin
    //| // TODO(lab 1): append data to the buffer, cut off every complete line (up to a "\n"), and
    //| // keep the unfinished rest for the next call. Split bytes first and decode each line later:
    //| // a multi-byte character may arrive in two chunks.
    //| // TODO(lab 6): throw LineTooLong as soon as a line (finished or not) is longer than
    //| // maxLineBytes; a line of exactly maxLineBytes is fine.
    //| return todo('lab 1: LineSplitter.feed');
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
    // starter end
  }
}

/** A client message: a JSON object whose type is `handshake` or `message`; fields unchecked. */
type ClientMessage = { type: 'handshake' | 'message' } & Record<string, unknown>;

// starter begin
const UTF8 = new TextDecoder('utf-8', { fatal: true });

// starter end
/** The message a line carries if it is a client message, else undefined. */
function parseMessage(line: Buffer): ClientMessage | undefined {
  // starter begin
  //| // TODO(lab 1): decode UTF-8 (new TextDecoder('utf-8', { fatal: true }) throws on bad bytes)
  //| // and JSON.parse. Return undefined, never throw, for a blank line, bytes that are not UTF-8,
  //| // text that is not JSON, JSON that is not an object (arrays and null are typeof 'object'
  //| // too), and an object whose "type" is not "handshake" or "message" (ECP-ERR-01, ECP-ERR-02).
  //| return todo('lab 1: parseMessage');
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
  // starter end
}

/** One message as one line: a JSON object, then exactly one "\n" (ECP-FR-01). */
function encode(message: Record<string, unknown>): Buffer {
  // starter begin
  //| // TODO(lab 1): JSON.stringify escapes line feeds inside strings. (Prototype clients read
  //| // ASCII-only JSON best: escaping non-ASCII as \uXXXX is a stretch goal.)
  //| return todo('lab 1: encode');
  // ASCII only, as the prototype writes: non-ASCII as \uXXXX (JSON.stringify escapes line feeds).
  const json = JSON.stringify(message).replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return Buffer.from(`${json}\n`, 'ascii');
  // starter end
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
  // starter begin
  //| // TODO(lab 2): new Refused(INVALID_HANDSHAKE("missing field 'public_key'")), or
  //| // "field 'username' must be a string", for the first field that is wrong (ECP-ERR-06, -07).
  //| todo('lab 2: checkHandshakeFields');
  for (const field of ['username', 'server_password', 'public_key']) {
    if (!(field in message)) throw new Refused(INVALID_HANDSHAKE(`missing field '${field}'`));
    if (typeof message[field] !== 'string') {
      throw new Refused(INVALID_HANDSHAKE(`field '${field}' must be a string`));
    }
  }
  // starter end
}

/** Whether the passwords are equal, compared in constant time (ECP-SEC-02). */
function passwordMatches(received: string, expected: string): boolean {
  // starter begin
  //| // TODO(lab 1): crypto.timingSafeEqual throws when the lengths differ, which leaks the length:
  //| // compare the SHA-256 digests of both (createHash('sha256').update(text).digest()).
  //| return todo('lab 1: passwordMatches');
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(received), digest(expected));
  // starter end
}

/** 1 to maxLength code points, none of Unicode category Cc (ECP-AUTH-06). */
function validUsername(name: string, maxLength: number): boolean {
  // starter begin
  //| // TODO(lab 6): name.length counts UTF-16 units, [...name].length code points; /\p{Cc}/u
  //| // matches a control character.
  //| return todo('lab 6: validUsername');
  const length = [...name].length;
  return length > 0 && length <= maxLength && !/\p{Cc}/u.test(name);
  // starter end
}

// ---------------------------------------------------------------------------------------------
// Lab 3: key exchange (protocol.md section 6)
// ---------------------------------------------------------------------------------------------

/** The RSA public key of a handshake; throws Refused with the reason when it is unusable. */
function loadClientKey(pem: string): KeyObject {
  // starter begin
  //| // TODO(lab 3): createPublicKey(pem). Careful: it also accepts a private key (and derives its
  //| // public key) and PKCS#1 "RSA PUBLIC KEY" PEM; the handshake carries a "PUBLIC KEY" (SPKI).
  //| // Refuse what is not a key, not RSA (key.asymmetricKeyType), or under 2048 bits
  //| // (key.asymmetricKeyDetails?.modulusLength): new Refused(INVALID_PUBLIC_KEY('not an RSA key')).
  //| return todo('lab 3: loadClientKey');
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
  // starter end
}

/** encrypted_key: standard base64 of RSA-OAEP(SHA-256, MGF1-SHA-256) of the key's 44-byte text. */
function wrapRoomKey(clientKey: KeyObject, roomKey: Buffer): string {
  // starter begin
  //| // TODO(lab 3): publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash:
  //| // 'sha256' }, roomKey).toString('base64'). Encrypt the 44-byte text of the key, not the 32
  //| // bytes it encodes (section 6.2).
  //| return todo('lab 3: wrapRoomKey');
  return publicEncrypt(
    { key: clientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    roomKey,
  ).toString('base64');
  // starter end
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

  constructor(server: ChatServer, socket: Socket) {
    this.server = server;
    this.socket = socket;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
  }

  // starter begin
  //| /** Queues one encoded line; never waits for the client to read it. */
  /** Queues one encoded line; never waits for the client to read it. Past the hard cap: dropped. */
  // starter end
  sendLine(line: Buffer): void {
    if (this.closing) return;
    this.socket.write(line);
    // starter begin
    //| // TODO(lab 7): the output not yet written is this.socket.writableLength. Past
    //| // maxPendingOutputBytes the client is not reading: set closing and destroy() the socket (its
    //| // 'close' handler makes it leave). And backpressure (ECP-LIM-08): after handling a read, if a
    //| // member is past a quarter of that limit, pause() the sender's socket until every such member
    //| // emits 'drain', and cut one that has not within slowReaderTimeoutMs. Senders slow down to
    //| // the readers' pace, and a member that reads slowly is never cut.
    if (this.socket.writableLength > this.server.options.maxPendingOutputBytes) this.dropSlowReader('cap');
    // starter end
  }
  // starter begin

  dropSlowReader(rule: 'cap' | 'timeout'): void {
    if (this.closing) return;
    log('slow reader disconnected', { peer: this.peer, name: this.name, rule });
    this.closing = true;
    this.socket.destroy(); // its 'close' handler makes it leave the room
  }

  /** Resolves once this client's output has drained, or after `timeoutMs`, dropping it then as slow. */
  drained(timeoutMs: number): Promise<void> {
    if (this.closing || this.socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.dropSlowReader('timeout');
        done();
      }, timeoutMs);
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }
  // starter end

  send(message: Record<string, unknown>): void {
    this.sendLine(encode(message));
  }
}

/** The members, in join order (a Map keeps insertion order). */
class Room {
  readonly members = new Map<string, Connection>();

  broadcast(message: Record<string, unknown>, exclude?: Connection): void {
    // starter begin
    //| // TODO(lab 3): encode once, sendLine to every member except `exclude`. Iterate over a copy
    //| // ([...this.members.values()]): a send may end a connection (lab 7).
    //| todo('lab 3: Room.broadcast');
    const line = encode(message); // serialise once for everyone
    for (const member of [...this.members.values()]) if (member !== exclude) member.sendLine(line);
    // starter end
  }

  userList(): Record<string, unknown> {
    return { type: 'user_list', users: [...this.members.keys()] };
  }

  /** Admits a connection: its four join lines, then the others' user list and notice. */
  join(connection: Connection, name: string, encryptedKey: string): void {
    this.members.set(name, connection);
    connection.name = name;
    // starter begin
    //| // TODO(lab 3): to the new member, in this order: system WELCOME, key_exchange, system SECURE,
    //| // user_list (section 4.2); then to every other member the user_list.
    //| // TODO(lab 5): and to every other member, right after that user_list, the system JOINED.
    //| todo('lab 3: Room.join');
    connection.send({ type: 'system', message: WELCOME(name) });
    connection.send({ type: 'key_exchange', encrypted_key: encryptedKey });
    connection.send({ type: 'system', message: SECURE });
    connection.send(this.userList());
    this.broadcast(this.userList(), connection);
    this.broadcast({ type: 'system', message: JOINED(name) }, connection);
    // starter end
  }

  leave(connection: Connection): void {
    if (connection.name === undefined || this.members.get(connection.name) !== connection) return;
    this.members.delete(connection.name);
    // starter begin
    //| // TODO(lab 5): to the remaining members: the user_list, then system LEFT (section 10).
    this.broadcast(this.userList());
    this.broadcast({ type: 'system', message: LEFT(connection.name) });
    // starter end
  }

  /** To every other member first, then the echo to the sender, with the sender set by us. */
  relay(sender: Connection, message: ClientMessage): void {
    // starter begin
    //| // TODO(lab 4): build { type: 'message', sender, message, encrypted } from the defined fields
    //| // only, with the sender's admitted name (ECP-CHAT-01 to 05).
    //| // TODO(lab 6): ignore a message whose "message" is not a string or "encrypted" not a boolean
    //| // (ECP-ERR-05).
    //| todo('lab 4: Room.relay');
    const { message: payload, encrypted } = message;
    if (typeof payload !== 'string' || typeof encrypted !== 'boolean') return; // ECP-ERR-05
    const line = encode({ type: 'message', sender: sender.name, message: payload, encrypted });
    for (const member of [...this.members.values()]) if (member !== sender) member.sendLine(line);
    sender.sendLine(line);
    // starter end
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
  shuttingDown = false;

  constructor(options: Options) {
    this.options = options;
  }

  handle(socket: Socket): void {
    const connection = new Connection(this, socket);
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    // starter begin
    //| // TODO(lab 6): past this.options.maxConnections open connections, refuse with SERVER_FULL.
    socket.setNoDelay(true);
    socket.on('error', () => {}); // a reset: 'close' follows
    if (this.connections.size >= this.options.maxConnections) {
      log('refused', { peer: connection.peer, reason: SERVER_FULL });
      socket.on('data', () => {}); // read what it sends, so it gets no reset
      this.refuse(connection, SERVER_FULL);
      return;
    }
    // starter end
    this.connections.add(connection);
    const splitter = new LineSplitter(this.options.maxLineBytes);
    // starter begin
    //| // TODO(lab 6): a timer: if the connection is not admitted handshakeTimeoutMs after it was
    //| // accepted, refuse it with HANDSHAKE_TIMEOUT (clear the timer when it closes).
    const timer = setTimeout(() => {
      if (connection.name === undefined && !connection.closing)
        this.onError(connection, new Refused(HANDSHAKE_TIMEOUT));
    }, this.options.handshakeTimeoutMs);
    // starter end
    socket.on('data', (data: Buffer) => {
      if (connection.closing) return;
      try {
        for (const line of splitter.feed(data)) {
          if (connection.closing) return; // a line before this one ended the connection
          const message = parseMessage(line);
          if (message) this.onMessage(connection, message);
        }
      } catch (error) {
        this.onError(connection, error);
      }
      // starter begin
      // Backpressure (lab 7): read no more from this sender while a member is far behind; a
      // member whose output does not drain within the slow-reader timeout is dropped. So a member
      // that keeps reading is never cut, however fast the others send.
      const high = Math.max(1, Math.floor(this.options.maxPendingOutputBytes / 4));
      const behind = [...this.room.members.values()].filter((member) => member.socket.writableLength > high);
      if (behind.length > 0) {
        socket.pause();
        Promise.all(behind.map((member) => member.drained(this.options.slowReaderTimeoutMs))).then(() => {
          if (!connection.closing) socket.resume();
        });
      }
      // starter end
    });
    // starter begin
    //| socket.on('error', () => {}); // a reset: 'close' follows
    //| socket.on('close', () => this.depart(connection));
    socket.on('close', () => {
      clearTimeout(timer);
      this.depart(connection);
    });
    // starter end
  }

  onError(connection: Connection, error: unknown): void {
    if (error instanceof Refused) {
      log('refused', { peer: connection.peer, reason: error.message });
      this.refuse(connection, error.message);
    } else if (error instanceof LineTooLong) {
      log('line too long', { peer: connection.peer, name: connection.name });
      // starter begin
      //| // TODO(lab 6): send the system notice LINE_TOO_LONG(limit) first.
      connection.send({ type: 'system', message: LINE_TOO_LONG(this.options.maxLineBytes) });
      // starter end
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
    // starter begin
    //| // TODO(lab 4): a chat "message" from a member goes to this.room.relay; one from a connection
    //| // that is not admitted is ignored (ECP-ERR-03).
    //| // TODO(lab 6): a handshake from a member is ignored (ECP-ERR-04).
    //| if (message.type !== 'handshake') return;
    if (message.type === 'message') {
      if (connection.name !== undefined) this.room.relay(connection, message);
      return; // ECP-ERR-03: a chat message before admission is ignored
    }
    if (connection.name !== undefined) return; // ECP-ERR-04: a second handshake is ignored
    // starter end
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
    // starter begin
    //| // TODO(lab 2): checkHandshakeFields(message) before anything else.
    //| // TODO(lab 1): a wrong password (passwordMatches): throw new Refused(INVALID_PASSWORD).
    //| // TODO(lab 6): validUsername, else new Refused(INVALID_USERNAME(maxUsernameLength)).
    //| // TODO(lab 5): a name in this.room.members: throw new NameTaken().
    //| // TODO(lab 3): return the name and wrapRoomKey(loadClientKey(...), this.roomKey).
    //| return todo('lab 1: ChatServer.checkHandshake');
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
    // starter end
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
      // starter begin
      //| // TODO(lab 5): tell every member SHUTTING_DOWN first (ECP-SYS-01).
      if (connection.name !== undefined) connection.send({ type: 'system', message: SHUTTING_DOWN });
      // starter end
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
  listener.on('error', (error) => {
    console.error(`cannot listen on ${options.host}:${options.port}: ${error.message}`);
    process.exit(1);
  });
  listener.listen(options.port, options.host, () => {
    console.log(`ECP server listening on ${options.host}:${options.port}`);
  });
}

main();
