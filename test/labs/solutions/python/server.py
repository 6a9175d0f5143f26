#!/usr/bin/env python3
"""An ECP v1 chat server: the Python starter of labs/starters/python with every lab done.

The kit's tests run it through every lab (test/labs/). It keeps the starter's layout, so a
teacher can compare a student's server with it section by section. One thread, asyncio: every
write is queued by the event loop and never blocks the room, so a member that stops reading
costs only its own connection (lab 7).

    python3 server.py --port 8888 --password secret123 [--max-line-bytes N] ...

Needs the `cryptography` package (Debian: python3-cryptography; pip: cryptography).
"""

import argparse
import asyncio
import base64
import hmac
import json
import signal
import sys
import time
import unicodedata

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The texts of docs/protocol.md section 9.
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
    # Flow control (lab 7), as the reference server names them.
    parser.add_argument("--slow-reader-timeout-ms", type=int, default=5000)
    parser.add_argument("--max-total-output-bytes", type=int, default=256 * 1024 * 1024)
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
        self.scanned = 0  # bytes of the buffer already searched for a line feed

    def feed(self, data):
        """Adds bytes; returns the complete lines (without b"\\n" or a final b"\\r")."""
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


def parse_message(line):
    """The JSON object a line carries if it is a client message (`handshake` or `message`), else None."""
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


def encode(message):
    """One message as one line: ASCII-only JSON (non-ASCII escaped as \\uXXXX) and one b"\\n"."""
    return (json.dumps(message) + "\n").encode("ascii")


# ---------------------------------------------------------------------------------------------
# Labs 1 and 2: handshake and password (protocol.md sections 4.1 and 5)
# ---------------------------------------------------------------------------------------------


class Refused(Exception):
    """Send `auth_error` with this text, then close the connection."""


class NameTaken(Exception):
    """Answer with the taken-name notice; the connection stays open for another try."""


def check_handshake_fields(message):
    """Raises Refused unless username, server_password and public_key are all strings."""
    for field in ("username", "server_password", "public_key"):
        if field not in message:
            raise Refused(INVALID_HANDSHAKE.format(f"missing field '{field}'"))
        if not isinstance(message[field], str):
            raise Refused(INVALID_HANDSHAKE.format(f"field '{field}' must be a string"))


def password_matches(received, expected):
    """Constant time. compare_digest raises on non-ASCII str, so compare the UTF-8 bytes."""
    return hmac.compare_digest(received.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def valid_username(name, max_length):
    """1 to max_length code points, none of Unicode category Cc (ECP-AUTH-06)."""
    return 0 < len(name) <= max_length and not any(unicodedata.category(c) == "Cc" for c in name)


# ---------------------------------------------------------------------------------------------
# Lab 3: key exchange (protocol.md section 6)
# ---------------------------------------------------------------------------------------------


def load_client_key(pem):
    """The RSA public key of a handshake; raises Refused with the reason when it is unusable."""
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8", "surrogatepass"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise Refused(INVALID_PUBLIC_KEY.format("not a PEM SubjectPublicKeyInfo")) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise Refused(INVALID_PUBLIC_KEY.format("not an RSA key"))
    if key.key_size < 2048:
        raise Refused(INVALID_PUBLIC_KEY.format(f"modulus is {key.key_size} bits; at least 2048 required"))
    return key


def wrap_room_key(client_key, room_key):
    """encrypted_key: standard base64 of RSA-OAEP(SHA-256, MGF1-SHA-256) of the key's 44-byte text."""
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return base64.b64encode(client_key.encrypt(room_key, oaep)).decode("ascii")


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
        self.queued = 0  # bytes ever queued; minus what is still buffered, what was written
        self.written = 0  # as last seen by the flow watch
        self.progress_at = time.monotonic()
        server.flow.watermarks(writer.transport)

    def pending(self):
        return self.writer.transport.get_write_buffer_size()

    def send_line(self, line):
        """Queues one encoded line; never waits for the client to read it (lab 7)."""
        if self.closing:
            return
        self.writer.write(line)
        self.queued += len(line)
        pending = self.pending()
        if pending > self.server.args.max_pending_output_bytes:
            self.server.flow.cut(self, "cap")
        else:
            self.server.flow.note(self, pending)

    def send(self, message):
        self.send_line(encode(message))


class Flow:
    """Backpressure and slow readers (ECP-LIM-03, 04, 06, 07), as the reference server does them.

    A member whose unwritten output passes the high watermark is behind until it drains to the low
    one; while anyone is behind (or all output together passes the total budget), no connection's
    input is processed, so the senders slow down to the readers' pace and nobody who reads is cut.
    A member whose output makes no progress for the slow-reader timeout, or passes the
    pending-output limit, is disconnected.
    """

    def __init__(self, server):
        self.server = server
        args = server.args
        self.high = max(2, min(args.max_pending_output_bytes // 4, 1024 * 1024))
        self.low = self.high // 2
        self.behind = set()
        self.over_budget = False
        self.clear = asyncio.Event()
        self.clear.set()

    def watermarks(self, transport):
        # drain() then waits until the buffer is down to the low watermark.
        transport.set_write_buffer_limits(high=self.high, low=self.low)

    def note(self, connection, pending):
        if pending > self.high and connection not in self.behind:
            self.behind.add(connection)
            self.clear.clear()
            asyncio.ensure_future(self.catch_up(connection))

    async def catch_up(self, connection):
        try:
            await connection.writer.drain()
        except (ConnectionError, OSError):
            pass
        self.forget(connection)

    def forget(self, connection):
        self.behind.discard(connection)
        if not self.behind and not self.over_budget:
            self.clear.set()

    async def wait(self):
        """Before processing input: wait while the room's output is behind."""
        if not self.clear.is_set():
            await self.clear.wait()

    def cut(self, connection, rule):
        log("slow reader disconnected", peer=connection.peer, name=connection.name, rule=rule)
        connection.closing = True
        connection.writer.transport.abort()
        self.server.depart(connection)
        self.forget(connection)

    async def watch(self):
        """Every 100 ms: slow readers by the timeout, and the total output budget."""
        timeout = self.server.args.slow_reader_timeout_ms / 1000
        while True:
            await asyncio.sleep(0.1)
            now = time.monotonic()
            total = 0
            for connection in list(self.server.connections):
                pending = connection.pending()
                total += pending
                written = connection.queued - pending
                if pending == 0 or written > connection.written:
                    connection.written = written
                    connection.progress_at = now
                elif now - connection.progress_at > timeout:
                    self.cut(connection, "timeout")
            self.over_budget = total > self.server.args.max_total_output_bytes
            if self.over_budget:
                self.clear.clear()
            else:
                self.forget(None)


class Room:
    """The members, in join order (a dict keeps insertion order)."""

    def __init__(self):
        self.members = {}

    def broadcast(self, message, exclude=None):
        line = encode(message)  # serialise once for everyone
        for member in list(self.members.values()):
            if member is not exclude:
                member.send_line(line)

    def user_list(self):
        return {"type": "user_list", "users": list(self.members)}

    def join(self, connection, name, encrypted_key):
        """Admits a connection: its four join lines, then the others' user list and notice."""
        self.members[name] = connection
        connection.name = name
        connection.send({"type": "system", "message": WELCOME.format(name)})
        connection.send({"type": "key_exchange", "encrypted_key": encrypted_key})
        connection.send({"type": "system", "message": SECURE})
        connection.send(self.user_list())
        self.broadcast(self.user_list(), exclude=connection)
        self.broadcast({"type": "system", "message": JOINED.format(name)}, exclude=connection)

    def leave(self, connection):
        if self.members.get(connection.name) is not connection:
            return
        del self.members[connection.name]
        self.broadcast(self.user_list())
        self.broadcast({"type": "system", "message": LEFT.format(connection.name)})

    def relay(self, sender, message):
        """To every other member first, then the echo to the sender, with the sender set by us."""
        payload, encrypted = message.get("message"), message.get("encrypted")
        if not isinstance(payload, str) or not isinstance(encrypted, bool):
            return  # ECP-ERR-05: ignored, nothing relayed
        line = encode({"type": "message", "sender": sender.name, "message": payload, "encrypted": encrypted})
        for member in list(self.members.values()):
            if member is not sender:
                member.send_line(line)
        sender.send_line(line)


# ---------------------------------------------------------------------------------------------
# The server: connections, handshake timeout, limits, shutdown (labs 2, 6)
# ---------------------------------------------------------------------------------------------


class Server:
    def __init__(self, args):
        self.args = args
        self.room = Room()
        self.room_key = Fernet.generate_key()  # 44 ASCII bytes, one key for the server's lifetime
        self.connections = set()
        self.shutting_down = False
        self.flow = Flow(self)

    async def handle(self, reader, writer):
        connection = Connection(self, reader, writer)
        if self.shutting_down:
            writer.close()
            return
        if len(self.connections) >= self.args.max_connections:
            log("refused", peer=connection.peer, reason="server full")
            await self.refuse(connection, SERVER_FULL)
            return
        self.connections.add(connection)
        try:
            await self.serve(connection)
        except Refused as refusal:
            log("refused", peer=connection.peer, reason=str(refusal))
            await self.refuse(connection, str(refusal))
        except LineTooLong:
            log("line too long", peer=connection.peer, name=connection.name)
            connection.send({"type": "system", "message": LINE_TOO_LONG.format(self.args.max_line_bytes)})
            self.depart(connection)
            await self.close_gracefully(connection)
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
        deadline = time.monotonic() + self.args.handshake_timeout_ms / 1000
        while True:
            if connection.name is None:
                try:
                    data = await asyncio.wait_for(connection.reader.read(65536), deadline - time.monotonic())
                except asyncio.TimeoutError:
                    raise Refused(HANDSHAKE_TIMEOUT) from None
            else:
                data = await connection.reader.read(65536)
            if not data or connection.closing:
                return
            for line in splitter.feed(data):
                await self.flow.wait()  # backpressure: the room's output first (lab 7)
                if connection.closing:
                    return
                message = parse_message(line)
                if message is not None:
                    self.on_message(connection, message)

    def on_message(self, connection, message):
        if message["type"] == "message":
            if connection.name is not None:
                self.room.relay(connection, message)
            return  # ECP-ERR-03: a chat message before admission is ignored
        if connection.name is not None:
            return  # ECP-ERR-04: a second handshake is ignored
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
        """SIGTERM or SIGINT: tell every member, flush, close (ECP-SYS-01), within the grace period."""
        self.shutting_down = True
        for connection in list(self.connections):
            if connection.name is not None:
                connection.send({"type": "system", "message": SHUTTING_DOWN})
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
    watch = asyncio.ensure_future(server.flow.watch())
    await stop.wait()
    watch.cancel()
    listener.close()
    await server.shutdown()
    log("stopped")


if __name__ == "__main__":
    asyncio.run(main())
