#!/usr/bin/env python3
# starter begin
#| """ECP v1 chat server: the Python starter of the ECP labs (docs/labs/README.md).
#|
#| What is here already: the command-line contract (docs/protocol.md section 15), the listening
#| socket, one task per connection, logging, and a clean exit on SIGTERM or Ctrl-C. What is not:
#| everything marked TODO(lab N). Work through the labs in order; each lab's page says which TODOs
#| it needs, which sections of docs/protocol.md to read, and the one command that checks your work.
#|
#|     python3 server.py --port 8888 --password secret123
#|
#| A TODO you have not done yet raises NotImplementedError: the server logs it and closes that
#| connection, and keeps serving the others.
#|
#| One thread, asyncio: `writer.write()` queues bytes and never blocks, and nothing else runs
#| between two `await`s. Keep it that way and lab 7 (slow readers) is a few lines.
#|
#| Needs the `cryptography` package (Debian: python3-cryptography; pip: cryptography).
#| """
"""An ECP v1 chat server: the Python starter of labs/starters/python with every lab done.

The kit's tests run it through every lab (test/labs/). The starter is written from this file
(`npm run labs:starters`, labs/generate-starters.ts): what lies between `# starter begin` and
`# starter end` is the students' work, and the `#|` lines are what the starter has in its
place. One thread, asyncio: every write is queued by the event loop and never blocks the room,
so a member that stops reading costs only its own connection (lab 7).

    python3 server.py --port 8888 --password secret123 [--max-line-bytes N] ...

Needs the `cryptography` package (Debian: python3-cryptography; pip: cryptography).
"""
# starter end

import argparse
import asyncio
# starter begin
#| import base64  # noqa: F401  (lab 3)
#| import hmac  # noqa: F401  (lab 2)
#| import json  # noqa: F401  (lab 1)
import base64
import hmac
import json
# starter end
import signal
import sys
import time
# starter begin
#| import unicodedata  # noqa: F401  (lab 2)
import unicodedata
# starter end

# starter begin
#| from cryptography.exceptions import UnsupportedAlgorithm  # noqa: F401  (lab 3)
from cryptography.exceptions import UnsupportedAlgorithm
# starter end
from cryptography.fernet import Fernet
# starter begin
#| from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401  (lab 3)
#| from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: F401  (lab 3)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
# starter end

# starter begin
#| # The texts of docs/protocol.md section 9: use them exactly.
# The texts of docs/protocol.md section 9.
# starter end
WELCOME = "Welcome {}! Establishing secure connection..."
SECURE = "Secure connection established! You can now send encrypted messages."
JOINED = "{} has joined the chat"
LEFT = "{} has left the chat"
TAKEN = "Username already taken"
SHUTTING_DOWN = "Server is shutting down"
LINE_TOO_LONG = "Line too long (limit {} bytes); closing connection"
INVALID_PASSWORD = "Invalid server password"
INVALID_HANDSHAKE = "Invalid handshake: {}"
INVALID_USERNAME = "Invalid username: must be 1-{} printable characters"
INVALID_PUBLIC_KEY = "Invalid public key: {}"
HANDSHAKE_TIMEOUT = "Handshake timeout"
SERVER_FULL = "Server full"

# After refusing a connection, how long it may take to read our last line before we hang up.
CLOSE_GRACE_S = 1.0
# How long a graceful shutdown may take before the remaining connections are dropped.
SHUTDOWN_GRACE_S = 1.5


def parse_args(argv=None):
    """The command-line contract of docs/protocol.md section 15: the same flags as `ecp server`."""
    parser = argparse.ArgumentParser(description="ECP v1 chat server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--password", default="secret123")
    parser.add_argument("--max-line-bytes", type=int, default=1048576)
    parser.add_argument("--handshake-timeout-ms", type=int, default=10000)
    parser.add_argument("--max-pending-output-bytes", type=int, default=8388608)
    parser.add_argument("--max-connections", type=int, default=10000)
    parser.add_argument("--max-username-length", type=int, default=32)
    # Flow control (lab 7), as the reference server names it.
    parser.add_argument("--slow-reader-timeout-ms", type=int, default=5000)
    return parser.parse_args(argv)


def log(event, **fields):
    """One line per event on stderr. Never pass the received password here (ECP-SEC-02)."""
    details = " ".join(f"{key}={value!r}" for key, value in fields.items())
    print(f"{time.strftime('%H:%M:%S')} {event} {details}".rstrip(), file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Lab 1: framing and JSON (protocol.md sections 2, 3 and 11), and refusing a wrong password
# ---------------------------------------------------------------------------------------------


class LineTooLong(Exception):
    """A line grew past the line limit (lab 6)."""


class LineSplitter:
    """Cuts a byte stream into lines at each b"\\n", however TCP splits the bytes."""

    def __init__(self, max_line_bytes):
        self.max_line_bytes = max_line_bytes
        self.buffer = bytearray()
        # starter begin
        self.scanned = 0  # bytes of the buffer already searched for a line feed
        # starter end

    def feed(self, data):
        """Adds bytes; returns the complete lines (without b"\\n" or a final b"\\r")."""
        # starter begin
        #| # TODO(lab 1): append data to the buffer, cut off every complete line (up to a b"\n"), and
        #| # keep the unfinished rest for the next call. Split bytes first and decode each line later:
        #| # a multi-byte character may arrive in two reads.
        #| # TODO(lab 6): raise LineTooLong as soon as a line (finished or not) is longer than
        #| # max_line_bytes; a line of exactly max_line_bytes is fine.
        #| raise NotImplementedError("TODO(lab 1): LineSplitter.feed")
        self.buffer += data
        lines = []
        start = 0
        while True:
            end = self.buffer.find(b"\n", max(start, self.scanned))
            if end < 0:
                break
            line = bytes(self.buffer[start:end])
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > self.max_line_bytes:
                raise LineTooLong()
            lines.append(line)
            start = end + 1
        del self.buffer[:start]
        self.scanned = len(self.buffer)
        # An unfinished line already over the limit will never fit: refuse it now (a final "\r" may
        # still be part of a line ending).
        pending = len(self.buffer) - (1 if self.buffer.endswith(b"\r") else 0)
        if pending > self.max_line_bytes:
            raise LineTooLong()
        return lines
        # starter end


def parse_message(line):
    """The JSON object a line carries if it is a client message (`handshake` or `message`), else None."""
    # starter begin
    #| # TODO(lab 1): decode UTF-8 and parse JSON. Return None, never raise, for a blank line, bytes
    #| # that are not UTF-8, text that is not JSON, JSON that is not an object, and an object whose
    #| # "type" is not "handshake" or "message" (ECP-ERR-01, ECP-ERR-02).
    #| raise NotImplementedError("TODO(lab 1): parse_message")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or value.get("type") not in ("handshake", "message"):
        return None
    return value
    # starter end


def encode(message):
    # starter begin
    #| """One message as one line: a JSON object, then exactly one b"\\n" (ECP-FR-01)."""
    #| # TODO(lab 1): json.dumps escapes line feeds inside strings, and by default writes ASCII only
    #| # (non-ASCII as \uXXXX), which is what prototype clients read best.
    #| raise NotImplementedError("TODO(lab 1): encode")
    """One message as one line: ASCII-only JSON (non-ASCII escaped as \\uXXXX) and one b"\\n"."""
    return (json.dumps(message) + "\n").encode("ascii")
    # starter end


# ---------------------------------------------------------------------------------------------
# Labs 1 and 2: handshake and password (protocol.md sections 4.1 and 5)
# ---------------------------------------------------------------------------------------------


class Refused(Exception):
    """Send `auth_error` with this text, then close the connection."""


class NameTaken(Exception):
    """Answer with the taken-name notice; the connection stays open for another try."""


def check_handshake_fields(message):
    """Raises Refused unless username, server_password and public_key are all strings."""
    # starter begin
    #| # TODO(lab 2): Refused(INVALID_HANDSHAKE.format("missing field 'public_key'")), or
    #| # "field 'username' must be a string", for the first field that is wrong (ECP-ERR-06, -07).
    #| raise NotImplementedError("TODO(lab 2): check_handshake_fields")
    for field in ("username", "server_password", "public_key"):
        if field not in message:
            raise Refused(INVALID_HANDSHAKE.format(f"missing field '{field}'"))
        if not isinstance(message[field], str):
            raise Refused(INVALID_HANDSHAKE.format(f"field '{field}' must be a string"))
    # starter end


def password_matches(received, expected):
    # starter begin
    #| """Whether the passwords are equal, compared in constant time (ECP-SEC-02)."""
    #| # TODO(lab 1): hmac.compare_digest. It raises TypeError on a str with non-ASCII characters,
    #| # so compare bytes: received.encode("utf-8", "surrogatepass") (JSON can carry lone surrogates).
    #| raise NotImplementedError("TODO(lab 1): password_matches")
    """Constant time. compare_digest raises on non-ASCII str, so compare the UTF-8 bytes."""
    return hmac.compare_digest(received.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
    # starter end


def valid_username(name, max_length):
    """1 to max_length code points, none of Unicode category Cc (ECP-AUTH-06)."""
    # starter begin
    #| # TODO(lab 6): len(name) counts code points; unicodedata.category(c) == "Cc" is a control
    #| # character.
    #| raise NotImplementedError("TODO(lab 6): valid_username")
    return 0 < len(name) <= max_length and not any(unicodedata.category(c) == "Cc" for c in name)
    # starter end


# ---------------------------------------------------------------------------------------------
# Lab 3: key exchange (protocol.md section 6)
# ---------------------------------------------------------------------------------------------


def load_client_key(pem):
    """The RSA public key of a handshake; raises Refused with the reason when it is unusable."""
    # starter begin
    #| # TODO(lab 3): serialization.load_pem_public_key(pem.encode()), and refuse what is not a key,
    #| # not RSA (isinstance(key, rsa.RSAPublicKey)) or under 2048 bits (key.key_size), e.g.
    #| # Refused(INVALID_PUBLIC_KEY.format("not an RSA key")) (ECP-KX-04, ECP-KX-05).
    #| raise NotImplementedError("TODO(lab 3): load_client_key")
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8", "surrogatepass"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise Refused(INVALID_PUBLIC_KEY.format("not a PEM SubjectPublicKeyInfo")) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused(INVALID_PUBLIC_KEY.format("not an RSA key"))
    if key.key_size < 2048:
        raise Refused(INVALID_PUBLIC_KEY.format(f"modulus is {key.key_size} bits; at least 2048 required"))
    return key
    # starter end


def wrap_room_key(client_key, room_key):
    """encrypted_key: standard base64 of RSA-OAEP(SHA-256, MGF1-SHA-256) of the key's 44-byte text."""
    # starter begin
    #| # TODO(lab 3): client_key.encrypt(room_key, padding.OAEP(...)), then base64.b64encode. The room
    #| # key is already the 44 ASCII bytes Fernet.generate_key() returned: encrypt those, not the 32
    #| # bytes they encode (section 6.2).
    #| raise NotImplementedError("TODO(lab 3): wrap_room_key")
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return base64.b64encode(client_key.encrypt(room_key, oaep)).decode("ascii")
    # starter end


# ---------------------------------------------------------------------------------------------
# Labs 3, 4, 5 and 7: the room, relay and echo, user lists and notices, slow readers
# ---------------------------------------------------------------------------------------------


class Connection:
    """One client: its socket, and its name once admitted."""

    def __init__(self, server, reader, writer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.name = None  # set when admitted
        self.closing = False
        self.peer = writer.get_extra_info("peername")

    def send_line(self, line):
        # starter begin
        #| """Queues one encoded line; never waits for the client to read it."""
        """Queues one encoded line. Never blocks; past the hard cap the client is dropped (lab 7)."""
        # starter end
        if self.closing:
            return
        self.writer.write(line)
        # starter begin
        #| # TODO(lab 7): the output not yet written is self.writer.transport.get_write_buffer_size().
        #| # Past --max-pending-output-bytes the client is not reading: set self.closing and abort the
        #| # transport (its task sees the end of the stream and leaves). And backpressure (ECP-LIM-08):
        #| # in serve(), after handling a read and before the next, wait for every member past a
        #| # quarter of that limit to drain (await writer.drain() under asyncio.wait_for with
        #| # --slow-reader-timeout-ms), cutting one that does not: senders slow down to the readers'
        #| # pace, and a member that reads slowly is never cut.
        if self.pending() > self.server.args.max_pending_output_bytes:
            self.drop_slow_reader("cap")
        # starter end
    # starter begin

    def pending(self):
        return self.writer.transport.get_write_buffer_size()

    def drop_slow_reader(self, rule):
        log("slow reader disconnected", peer=self.peer, name=self.name, rule=rule)
        self.closing = True
        # The connection's own task sees the end of its stream and leaves the room.
        self.writer.transport.abort()
    # starter end

    def send(self, message):
        self.send_line(encode(message))


class Room:
    """The members, in join order (a dict keeps insertion order)."""

    def __init__(self):
        self.members = {}

    def broadcast(self, message, exclude=None):
        # starter begin
        #| # TODO(lab 3): encode once, send_line to every member except `exclude`. Iterate over a copy
        #| # (list(...)): a send may end a connection (lab 7).
        #| raise NotImplementedError("TODO(lab 3): Room.broadcast")
        line = encode(message)  # serialise once for everyone
        for member in list(self.members.values()):
            if member is not exclude:
                member.send_line(line)
        # starter end

    def user_list(self):
        return {"type": "user_list", "users": list(self.members)}

    # starter begin
    async def wait_for_readers(self, args):
        """Backpressure (lab 7): a sender waits while a member is far behind, rather than burying
        everyone; a member whose output does not drain within the slow-reader timeout is dropped.
        So a member that keeps reading is never cut, however fast the others send."""
        high = max(1, args.max_pending_output_bytes // 4)
        for member in list(self.members.values()):
            if member.closing or member.pending() <= high:
                continue
            try:
                await asyncio.wait_for(member.writer.drain(), args.slow_reader_timeout_ms / 1000)
            except asyncio.TimeoutError:
                member.drop_slow_reader("timeout")
            except (ConnectionError, OSError):
                pass

    # starter end
    def join(self, connection, name, encrypted_key):
        """Admits a connection: its four join lines, then the others' user list and notice."""
        self.members[name] = connection
        connection.name = name
        # starter begin
        #| # TODO(lab 3): to the new member, in this order: system WELCOME, key_exchange, system SECURE,
        #| # user_list (section 4.2); then to every other member the user_list.
        #| # TODO(lab 5): and to every other member, right after that user_list, the system JOINED.
        #| raise NotImplementedError("TODO(lab 3): Room.join")
        connection.send({"type": "system", "message": WELCOME.format(name)})
        connection.send({"type": "key_exchange", "encrypted_key": encrypted_key})
        connection.send({"type": "system", "message": SECURE})
        connection.send(self.user_list())
        self.broadcast(self.user_list(), exclude=connection)
        self.broadcast({"type": "system", "message": JOINED.format(name)}, exclude=connection)
        # starter end

    def leave(self, connection):
        if self.members.get(connection.name) is not connection:
            return
        del self.members[connection.name]
        # starter begin
        #| # TODO(lab 5): to the remaining members: the user_list, then system LEFT (section 10).
        self.broadcast(self.user_list())
        self.broadcast({"type": "system", "message": LEFT.format(connection.name)})
        # starter end

    def relay(self, sender, message):
        """To every other member first, then the echo to the sender, with the sender set by us."""
        # starter begin
        #| # TODO(lab 4): build {"type": "message", "sender": ..., "message": ..., "encrypted": ...}
        #| # from the defined fields only, with the sender's admitted name (ECP-CHAT-01 to 05).
        #| # TODO(lab 6): ignore a message whose "message" is not a str or "encrypted" not a bool
        #| # (ECP-ERR-05).
        #| raise NotImplementedError("TODO(lab 4): Room.relay")
        payload, encrypted = message.get("message"), message.get("encrypted")
        if not isinstance(payload, str) or not isinstance(encrypted, bool):
            return  # ECP-ERR-05: ignored, nothing relayed
        line = encode({"type": "message", "sender": sender.name, "message": payload, "encrypted": encrypted})
        for member in list(self.members.values()):
            if member is not sender:
                member.send_line(line)
        sender.send_line(line)
        # starter end


# ---------------------------------------------------------------------------------------------
# starter begin
#| # The server: connections, handshake timeout, limits, shutdown
# The server: connections, handshake timeout, limits, shutdown (labs 2, 6)
# starter end
# ---------------------------------------------------------------------------------------------


class Server:
    def __init__(self, args):
        self.args = args
        self.room = Room()
        self.room_key = Fernet.generate_key()  # 44 ASCII bytes, one key for the server's lifetime
        self.connections = set()
        self.shutting_down = False

    async def handle(self, reader, writer):
        connection = Connection(self, reader, writer)
        if self.shutting_down:
            writer.close()
            return
        # starter begin
        #| # TODO(lab 6): past self.args.max_connections open connections, refuse with SERVER_FULL.
        if len(self.connections) >= self.args.max_connections:
            log("refused", peer=connection.peer, reason="server full")
            await self.refuse(connection, SERVER_FULL)
            return
        # starter end
        self.connections.add(connection)
        try:
            await self.serve(connection)
        except Refused as refusal:
            log("refused", peer=connection.peer, reason=str(refusal))
            await self.refuse(connection, str(refusal))
        except LineTooLong:
            log("line too long", peer=connection.peer, name=connection.name)
            # starter begin
            #| # TODO(lab 6): send the system notice LINE_TOO_LONG (with the limit) first.
            connection.send({"type": "system", "message": LINE_TOO_LONG.format(self.args.max_line_bytes)})
            # starter end
            self.depart(connection)
            await self.close_gracefully(connection)
        # starter begin
        #| except NotImplementedError as todo:
        #|     log("not implemented yet", todo=str(todo))
        # starter end
        except (ConnectionError, OSError):
            pass
        except Exception as error:  # a bug costs this connection, not the server
            log("error", peer=connection.peer, error=repr(error))
        finally:
            self.depart(connection)
            writer.close()

    def depart(self, connection):
        """The connection is over: it gets nothing more, and the room hears of it once."""
        connection.closing = True
        self.connections.discard(connection)
        if connection.name is not None and not self.shutting_down:
            self.room.leave(connection)
            log("left", name=connection.name)
            connection.name = None

    async def serve(self, connection):
        splitter = LineSplitter(self.args.max_line_bytes)
        # starter begin
        #| # TODO(lab 6): until the connection is admitted, wait at most until accept time +
        #| # handshake_timeout_ms for data (asyncio.wait_for), then raise Refused(HANDSHAKE_TIMEOUT).
        deadline = time.monotonic() + self.args.handshake_timeout_ms / 1000
        # starter end
        while True:
            # starter begin
            #| data = await connection.reader.read(65536)
            if connection.name is None:
                try:
                    data = await asyncio.wait_for(connection.reader.read(65536), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    raise Refused(HANDSHAKE_TIMEOUT) from None
            else:
                data = await connection.reader.read(65536)
            # starter end
            if not data or connection.closing:
                return
            for line in splitter.feed(data):
                message = parse_message(line)
                if message is not None:
                    self.on_message(connection, message)
            # starter begin
            # Read no more from this sender until the room has taken what it produced.
            await self.room.wait_for_readers(self.args)
            # starter end

    def on_message(self, connection, message):
        # starter begin
        #| # TODO(lab 4): a chat "message" from a member goes to self.room.relay; one from a connection
        #| # that is not admitted is ignored (ECP-ERR-03).
        #| # TODO(lab 6): a handshake from a member is ignored (ECP-ERR-04).
        #| if message["type"] != "handshake":
        #|     return
        if message["type"] == "message":
            if connection.name is not None:
                self.room.relay(connection, message)
            return  # ECP-ERR-03: a chat message before admission is ignored
        if connection.name is not None:
            return  # ECP-ERR-04: a second handshake is ignored
        # starter end
        try:
            name, encrypted_key = self.check_handshake(message)
        except NameTaken:
            connection.send({"type": "system", "message": TAKEN})
            return
        # No await between the taken-name check and the join: nobody can take the name meanwhile,
        # and no broadcast can fall between the four join lines.
        self.room.join(connection, name, encrypted_key)
        log("joined", name=name, users=len(self.room.members))

    def check_handshake(self, message):
        """In the order of protocol.md section 4.1; the first failing check decides."""
        # starter begin
        #| # TODO(lab 2): check_handshake_fields(message) before anything else.
        #| # TODO(lab 1): a wrong password (password_matches): raise Refused(INVALID_PASSWORD).
        #| # TODO(lab 6): valid_username, else Refused(INVALID_USERNAME.format(max_username_length)).
        #| # TODO(lab 5): a name in self.room.members: raise NameTaken.
        #| # TODO(lab 3): return the name and wrap_room_key(load_client_key(...), self.room_key).
        #| raise NotImplementedError("TODO(lab 1): Server.check_handshake")
        check_handshake_fields(message)
        if not password_matches(message["server_password"], self.args.password):
            raise Refused(INVALID_PASSWORD)
        name = message["username"]
        if not valid_username(name, self.args.max_username_length):
            raise Refused(INVALID_USERNAME.format(self.args.max_username_length))
        if name in self.room.members:
            raise NameTaken()
        client_key = load_client_key(message["public_key"])
        return name, wrap_room_key(client_key, self.room_key)
        # starter end

    async def refuse(self, connection, text):
        connection.send({"type": "auth_error", "message": text})
        await self.close_gracefully(connection)

    async def close_gracefully(self, connection):
        """Our last line first, then end of file; read what the client still sends so it gets no reset."""
        writer = connection.writer
        connection.closing = True
        try:
            if writer.can_write_eof():
                writer.write_eof()
            end = time.monotonic() + CLOSE_GRACE_S
            while time.monotonic() < end:
                if not await asyncio.wait_for(connection.reader.read(65536), end - time.monotonic()):
                    break
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        writer.close()

    async def shutdown(self):
        # starter begin
        #| """SIGTERM or SIGINT: close every connection (flushing what is queued) within the grace period."""
        """SIGTERM or SIGINT: tell every member, flush, close (ECP-SYS-01), within the grace period."""
        # starter end
        self.shutting_down = True
        for connection in list(self.connections):
            # starter begin
            #| # TODO(lab 5): tell every member SHUTTING_DOWN first (ECP-SYS-01).
            if connection.name is not None:
                connection.send({"type": "system", "message": SHUTTING_DOWN})
            # starter end
            connection.closing = True
            connection.writer.close()  # flushes what is queued, then closes
        waits = [connection.writer.wait_closed() for connection in list(self.connections)]
        if waits:
            await asyncio.wait([asyncio.ensure_future(wait) for wait in waits], timeout=SHUTDOWN_GRACE_S)


async def main():
    args = parse_args()
    server = Server(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    listener = await asyncio.start_server(server.handle, args.host, args.port, limit=65536)
    print(f"ECP server listening on {args.host}:{args.port}", flush=True)
    await stop.wait()
    listener.close()
    await server.shutdown()
    log("stopped")


if __name__ == "__main__":
    asyncio.run(main())
