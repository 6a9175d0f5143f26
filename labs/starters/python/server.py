#!/usr/bin/env python3
"""ECP v1 chat server: the Python starter of the ECP labs (docs/labs/README.md).

What is here already: the command-line contract (docs/protocol.md section 15), the listening
socket, one task per connection, logging, and a clean exit on SIGTERM or Ctrl-C. What is not:
everything marked TODO(lab N). Work through the labs in order; each lab's page says which TODOs
it needs, which sections of docs/protocol.md to read, and the one command that checks your work.

    python3 server.py --port 8888 --password secret123

A TODO you have not done yet raises NotImplementedError: the server logs it and closes that
connection, and keeps serving the others.

One thread, asyncio: `writer.write()` queues bytes and never blocks, and nothing else runs
between two `await`s. Keep it that way and lab 7 (slow readers) is a few lines.

Needs the `cryptography` package (Debian: python3-cryptography; pip: cryptography).
"""

import argparse
import asyncio
import base64  # noqa: F401  (lab 3)
import hmac  # noqa: F401  (lab 2)
import json  # noqa: F401  (lab 1)
import signal
import sys
import time
import unicodedata  # noqa: F401  (lab 2)

from cryptography.exceptions import UnsupportedAlgorithm  # noqa: F401  (lab 3)
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization  # noqa: F401  (lab 3)
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: F401  (lab 3)

# The texts of docs/protocol.md section 9: use them exactly.
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

    def feed(self, data):
        """Adds bytes; returns the complete lines (without b"\\n" or a final b"\\r")."""
        # TODO(lab 1): append data to the buffer, cut off every complete line (up to a b"\n"), and
        # keep the unfinished rest for the next call. Split bytes first and decode each line later:
        # a multi-byte character may arrive in two reads.
        # TODO(lab 6): raise LineTooLong as soon as a line (finished or not) is longer than
        # max_line_bytes; a line of exactly max_line_bytes is fine.
        raise NotImplementedError("TODO(lab 1): LineSplitter.feed")


def parse_message(line):
    """The JSON object a line carries if it is a client message (`handshake` or `message`), else None."""
    # TODO(lab 1): decode UTF-8 and parse JSON. Return None, never raise, for a blank line, bytes
    # that are not UTF-8, text that is not JSON, JSON that is not an object, and an object whose
    # "type" is not "handshake" or "message" (ECP-ERR-01, ECP-ERR-02).
    raise NotImplementedError("TODO(lab 1): parse_message")


def encode(message):
    """One message as one line: a JSON object, then exactly one b"\\n" (ECP-FR-01)."""
    # TODO(lab 1): json.dumps escapes line feeds inside strings, and by default writes ASCII only
    # (non-ASCII as \uXXXX), which is what prototype clients read best.
    raise NotImplementedError("TODO(lab 1): encode")


# ---------------------------------------------------------------------------------------------
# Labs 1 and 2: handshake and password (protocol.md sections 4.1 and 5)
# ---------------------------------------------------------------------------------------------


class Refused(Exception):
    """Send `auth_error` with this text, then close the connection."""


class NameTaken(Exception):
    """Answer with the taken-name notice; the connection stays open for another try."""


def check_handshake_fields(message):
    """Raises Refused unless username, server_password and public_key are all strings."""
    # TODO(lab 2): Refused(INVALID_HANDSHAKE.format("missing field 'public_key'")), or
    # "field 'username' must be a string", for the first field that is wrong (ECP-ERR-06, -07).
    raise NotImplementedError("TODO(lab 2): check_handshake_fields")


def password_matches(received, expected):
    """Whether the passwords are equal, compared in constant time (ECP-SEC-02)."""
    # TODO(lab 1): hmac.compare_digest. It raises TypeError on a str with non-ASCII characters,
    # so compare bytes: received.encode("utf-8", "surrogatepass") (JSON can carry lone surrogates).
    raise NotImplementedError("TODO(lab 1): password_matches")


def valid_username(name, max_length):
    """1 to max_length code points, none of Unicode category Cc (ECP-AUTH-06)."""
    # TODO(lab 6): len(name) counts code points; unicodedata.category(c) == "Cc" is a control
    # character.
    raise NotImplementedError("TODO(lab 6): valid_username")


# ---------------------------------------------------------------------------------------------
# Lab 3: key exchange (protocol.md section 6)
# ---------------------------------------------------------------------------------------------


def load_client_key(pem):
    """The RSA public key of a handshake; raises Refused with the reason when it is unusable."""
    # TODO(lab 3): serialization.load_pem_public_key(pem.encode()), and refuse what is not a key,
    # not RSA (isinstance(key, rsa.RSAPublicKey)) or under 2048 bits (key.key_size), e.g.
    # Refused(INVALID_PUBLIC_KEY.format("not an RSA key")) (ECP-KX-04, ECP-KX-05).
    raise NotImplementedError("TODO(lab 3): load_client_key")


def wrap_room_key(client_key, room_key):
    """encrypted_key: standard base64 of RSA-OAEP(SHA-256, MGF1-SHA-256) of the key's 44-byte text."""
    # TODO(lab 3): client_key.encrypt(room_key, padding.OAEP(...)), then base64.b64encode. The room
    # key is already the 44 ASCII bytes Fernet.generate_key() returned: encrypt those, not the 32
    # bytes they encode (section 6.2).
    raise NotImplementedError("TODO(lab 3): wrap_room_key")


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
        """Queues one encoded line; never waits for the client to read it."""
        if self.closing:
            return
        self.writer.write(line)
        # TODO(lab 7): the output not yet written is self.writer.transport.get_write_buffer_size().
        # Past --max-pending-output-bytes the client is not reading: set self.closing and abort the
        # transport (its task sees the end of the stream and leaves). And backpressure (ECP-LIM-08):
        # in serve(), after handling a read and before the next, wait for every member past a
        # quarter of that limit to drain (await writer.drain() under asyncio.wait_for with
        # --slow-reader-timeout-ms), cutting one that does not: senders slow down to the readers'
        # pace, and a member that reads slowly is never cut.

    def send(self, message):
        self.send_line(encode(message))


class Room:
    """The members, in join order (a dict keeps insertion order)."""

    def __init__(self):
        self.members = {}

    def broadcast(self, message, exclude=None):
        # TODO(lab 3): encode once, send_line to every member except `exclude`. Iterate over a copy
        # (list(...)): a send may end a connection (lab 7).
        raise NotImplementedError("TODO(lab 3): Room.broadcast")

    def user_list(self):
        return {"type": "user_list", "users": list(self.members)}

    def join(self, connection, name, encrypted_key):
        """Admits a connection: its four join lines, then the others' user list and notice."""
        self.members[name] = connection
        connection.name = name
        # TODO(lab 3): to the new member, in this order: system WELCOME, key_exchange, system SECURE,
        # user_list (section 4.2); then to every other member the user_list.
        # TODO(lab 5): and to every other member, right after that user_list, the system JOINED.
        raise NotImplementedError("TODO(lab 3): Room.join")

    def leave(self, connection):
        if self.members.get(connection.name) is not connection:
            return
        del self.members[connection.name]
        # TODO(lab 5): to the remaining members: the user_list, then system LEFT (section 10).

    def relay(self, sender, message):
        """To every other member first, then the echo to the sender, with the sender set by us."""
        # TODO(lab 4): build {"type": "message", "sender": ..., "message": ..., "encrypted": ...}
        # from the defined fields only, with the sender's admitted name (ECP-CHAT-01 to 05).
        # TODO(lab 6): ignore a message whose "message" is not a str or "encrypted" not a bool
        # (ECP-ERR-05).
        raise NotImplementedError("TODO(lab 4): Room.relay")


# ---------------------------------------------------------------------------------------------
# The server: connections, handshake timeout, limits, shutdown
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
        # TODO(lab 6): past self.args.max_connections open connections, refuse with SERVER_FULL.
        self.connections.add(connection)
        try:
            await self.serve(connection)
        except Refused as refusal:
            log("refused", peer=connection.peer, reason=str(refusal))
            await self.refuse(connection, str(refusal))
        except LineTooLong:
            log("line too long", peer=connection.peer, name=connection.name)
            # TODO(lab 6): send the system notice LINE_TOO_LONG (with the limit) first.
            self.depart(connection)
            await self.close_gracefully(connection)
        except NotImplementedError as todo:
            log("not implemented yet", todo=str(todo))
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
        # TODO(lab 6): until the connection is admitted, wait at most until accept time +
        # handshake_timeout_ms for data (asyncio.wait_for), then raise Refused(HANDSHAKE_TIMEOUT).
        while True:
            data = await connection.reader.read(65536)
            if not data or connection.closing:
                return
            for line in splitter.feed(data):
                message = parse_message(line)
                if message is not None:
                    self.on_message(connection, message)

    def on_message(self, connection, message):
        # TODO(lab 4): a chat "message" from a member goes to self.room.relay; one from a connection
        # that is not admitted is ignored (ECP-ERR-03).
        # TODO(lab 6): a handshake from a member is ignored (ECP-ERR-04).
        if message["type"] != "handshake":
            return
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
        # TODO(lab 2): check_handshake_fields(message) before anything else.
        # TODO(lab 1): a wrong password (password_matches): raise Refused(INVALID_PASSWORD).
        # TODO(lab 6): valid_username, else Refused(INVALID_USERNAME.format(max_username_length)).
        # TODO(lab 5): a name in self.room.members: raise NameTaken.
        # TODO(lab 3): return the name and wrap_room_key(load_client_key(...), self.room_key).
        raise NotImplementedError("TODO(lab 1): Server.check_handshake")

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
        """SIGTERM or SIGINT: close every connection (flushing what is queued) within the grace period."""
        self.shutting_down = True
        for connection in list(self.connections):
            # TODO(lab 5): tell every member SHUTTING_DOWN first (ECP-SYS-01).
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
