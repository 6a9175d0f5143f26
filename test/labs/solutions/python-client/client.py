"""An ECP v1 chat client for the client labs (docs/labs/11 to 13), driven as the kit drives it.

    python3 client.py HOST PORT USERNAME PASSWORD

Each line of standard input is sent as one chat message; each chat message received is written
on standard output as one JSON line {"sender", "text", "encrypted"} (or {"sender",
"undecryptable": true}); the exit status is 1 when the join is refused, 0 otherwise (docs/
conformance.md, "Checking a client"). It follows the design of the course prototype's
ChatClient: a class, one thread reading the socket, callbacks for what it receives.

Needs the `cryptography` package (pip install cryptography; Debian: python3-cryptography).
"""

import base64
import binascii
import json
import os
import socket
import sys
import threading

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
MAX_LINE_BYTES = 1024 * 1024 + 1


class LineReader:
    """Splits the bytes of the stream into lines, and only then decodes each as UTF-8."""

    def __init__(self):
        self.pending = b""

    def feed(self, data):
        """Returns the complete lines in `data` (without their line feeds), as text; None for a
        line that is not UTF-8."""
        # starter begin
        #| # TODO(lab 13): this decodes what has arrived as a whole, as the prototype does, so a
        #| # character split across two reads (or a line that is not UTF-8) ends the session. Split
        #| # the bytes at b"\n" first, keep the rest for the next read, and decode complete lines only.
        #| *lines, rest = (self.pending + data).decode("utf-8").split("\n")
        #| self.pending = rest.encode("utf-8")
        #| return lines
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        if len(self.pending) > MAX_LINE_BYTES:
            raise ValueError("a line longer than 1 MiB")
        out = []
        for line in lines:
            try:
                out.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                out.append(None)
        return out
        # starter end


def make_handshake(username, password, private_key):
    """The first message on the connection (ECP-HS-01, ECP-KX-01)."""
    # starter begin
    #| # TODO(lab 11): {"type": "handshake", "username", "server_password", "public_key"}, the
    #| # public key as SubjectPublicKeyInfo PEM text.
    #| raise NotImplementedError("TODO(lab 11): make_handshake")
    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {"type": "handshake", "username": username, "server_password": password,
            "public_key": pem.decode("ascii")}
    # starter end


def open_room_key(encrypted_key, private_key):
    """The room's Fernet from a key_exchange's `encrypted_key` (ECP-KX-06)."""
    # starter begin
    #| # TODO(lab 12): standard base64, then RSA-OAEP with SHA-256 (and MGF1 with SHA-256, no label).
    #| raise NotImplementedError("TODO(lab 12): open_room_key")
    return Fernet(private_key.decrypt(base64.b64decode(encrypted_key, validate=True), OAEP))
    # starter end


def seal(room, text):
    """A chat message's `message` field: standard base64 of the Fernet token (ECP-CHAT-06)."""
    # starter begin
    #| # TODO(lab 12): Fernet-encrypt the UTF-8 text, then base64 the token once more.
    #| raise NotImplementedError("TODO(lab 12): seal")
    return base64.b64encode(room.encrypt(text.encode("utf-8"))).decode("ascii")
    # starter end


def open_payload(room, payload):
    """The text of a sealed `message`; None when it fails (ECP-CHAT-07: never shown as text)."""
    # starter begin
    #| # TODO(lab 12): undo seal(); any failure (not base64, not a token, a bad HMAC) gives None.
    #| raise NotImplementedError("TODO(lab 12): open_payload")
    try:
        return room.decrypt(base64.b64decode(payload, validate=True)).decode("utf-8")
    except (binascii.Error, InvalidToken, ValueError, TypeError):
        return None
    # starter end


def usable(message):
    """Whether a parsed line is a message this client can use (ECP-MSG-03, ECP-MSG-05)."""
    # starter begin
    #| # TODO(lab 13): ignore JSON that is not an object, and messages without the fields their
    #| # type needs ("encrypted_key" for key_exchange, "sender" and "message" for message).
    #| return True
    if not isinstance(message, dict):
        return False
    needs = {"key_exchange": ["encrypted_key"], "message": ["sender", "message"]}.get(message.get("type"), [])
    return all(isinstance(message.get(field), str) for field in needs)
    # starter end


class ChatClient:
    def __init__(self, on_message, on_refused, on_end):
        self.on_message, self.on_refused, self.on_end = on_message, on_refused, on_end
        self.room = None
        self.sock = None
        self.lock = threading.Lock()

    def connect(self, host, port, username, password):
        self.sock = socket.create_connection((host, port))
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.send(make_handshake(username, password, self.private_key))
        threading.Thread(target=self.read, daemon=True).start()

    def send(self, message):
        with self.lock:
            self.sock.sendall(json.dumps(message).encode("utf-8") + b"\n")

    def send_text(self, text):
        if self.room is not None:  # not a member yet (or refused): nothing is sent
            self.send({"type": "message", "message": seal(self.room, text), "encrypted": True})

    def read(self):
        reader = LineReader()
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                for line in reader.feed(data):
                    if line is not None:
                        self.handle(line)
        except (OSError, ValueError) as error:
            print(f"connection ended: {error}", file=sys.stderr)
        self.on_end()

    def handle(self, line):
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not usable(message):
            return
        kind = message.get("type")
        if kind == "key_exchange":
            try:
                self.room = open_room_key(message["encrypted_key"], self.private_key)
            except ValueError as error:
                print(f"unusable key_exchange: {error}", file=sys.stderr)
        elif kind == "auth_error" or (kind == "system" and message.get("message") == "Username already taken"):
            self.on_refused(message.get("message"))
        elif kind == "message":
            if message.get("encrypted") is True:
                text = open_payload(self.room, message["message"]) if self.room is not None else None
                self.on_message(message["sender"], text, True)
            else:
                self.on_message(message["sender"], message["message"], False)


def main():
    host, port, username, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

    def show(sender, text, encrypted):
        shown = {"sender": sender, "undecryptable": True} if text is None else {"sender": sender, "text": text, "encrypted": encrypted}
        print(json.dumps(shown), flush=True)

    def refused(reason):
        print(f"refused: {reason}", file=sys.stderr)
        sys.stdout.flush()
        os._exit(1)

    def ended():
        sys.stdout.flush()
        os._exit(0)

    client = ChatClient(show, refused, ended)
    try:
        client.connect(host, port, username, password)
    except OSError as error:
        print(f"cannot connect: {error}", file=sys.stderr)
        sys.exit(3)
    for line in sys.stdin:
        client.send_text(line.rstrip("\n"))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
