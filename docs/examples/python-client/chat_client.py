"""An ECP v1 chat client that behaves as the original course prototype's ChatClient does.

Written from the specification (docs/protocol.md) to the same design as the prototype's client:
a class that a GUI drives (connect, send_message, disconnect) and that reports what it receives
through callbacks, with one thread reading the socket. It keeps the prototype's wire behaviour on
purpose, defects included, so that `ecp conformance --client` shows what such a client passes
and fails (docs/examples/python-client/README.md):

- it decodes each read of up to 1024 bytes as UTF-8 on its own (a character split across two
  reads ends the session);
- any line that is JSON but not an object, or a chat message without "message", ends the
  session (the reading thread stops on the first unexpected exception);
- a taken name leaves it connected and not a member, and it then sends what its user types in
  the clear (it holds no key);
- it speaks plain TCP only.

Needs the `cryptography` package (Debian: python3-cryptography).
"""

import base64
import json
import socket
import sys
import threading

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class ChatClient:
    """One connection to a room. Callbacks (all optional) stand in for the GUI:

    on_message(sender, text, encrypted)  a chat message; text is None when it failed to decrypt
    on_system(text)                      a notice from the server
    on_users(users)                      the member list
    on_refused(reason)                   the server refused the password
    on_disconnect()                      the session is over (called once)
    """

    def __init__(self, on_message=None, on_system=None, on_users=None, on_refused=None, on_disconnect=None):
        self.sock = None
        self.connected = False
        self.room = None  # the room's Fernet, once a key_exchange has been opened
        self.private_key = None
        self.on_message = on_message or (lambda sender, text, encrypted: None)
        self.on_system = on_system or (lambda text: None)
        self.on_users = on_users or (lambda users: None)
        self.on_refused = on_refused or (lambda reason: None)
        self.on_disconnect = on_disconnect or (lambda: None)
        self._ended = threading.Event()

    def connect(self, host, port, username, password):
        """Connects and sends the handshake; True once sent (the join completes in the background)."""
        try:
            self.sock = socket.create_connection((host, port))
        except OSError as error:
            print(f"connection error: {error}", file=sys.stderr)
            return False
        self.connected = True
        # A fresh RSA-2048 key pair for every connection (ECP-KX-01).
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._send({"type": "handshake", "username": username, "server_password": password,
                    "public_key": public_pem.decode("ascii")})
        threading.Thread(target=self._read, daemon=True).start()
        return True

    def send_message(self, text):
        """Sends one chat message: sealed with the room key when there is one, else in the clear."""
        if not self.connected:
            return
        if self.room is not None:
            token = self.room.encrypt(text.encode("utf-8"))
            self._send({"type": "message", "message": base64.b64encode(token).decode("ascii"), "encrypted": True})
        else:
            self._send({"type": "message", "message": text, "encrypted": False})

    def disconnect(self):
        self.connected = False
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        if not self._ended.is_set():
            self._ended.set()
            self.on_disconnect()

    def wait(self, timeout=None):
        """Waits until the session is over."""
        return self._ended.wait(timeout)

    def _send(self, message):
        try:
            # json.dumps writes one line: a line feed inside a string is escaped as \n (ECP-FR-02).
            self.sock.sendall(json.dumps(message).encode("utf-8") + b"\n")
        except OSError as error:
            print(f"send error: {error}", file=sys.stderr)
            self.disconnect()

    def _read(self):
        pending = ""
        while self.connected:
            try:
                data = self.sock.recv(1024).decode("utf-8")  # the prototype's way: each read on its own
                if not data:
                    break
                pending += data
                while "\n" in pending:
                    line, pending = pending.split("\n", 1)
                    self._handle(line)
            except Exception as error:  # as the prototype: anything unexpected ends the session
                if self.connected:
                    print(f"receive error: {error!r}", file=sys.stderr)
                break
        self.disconnect()

    def _handle(self, line):
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            return  # not JSON: ignored (ECP-MSG-03)
        kind = message.get("type")
        if kind == "key_exchange":
            self._take_key(message)
        elif kind == "user_list":
            self.on_users(message["users"])
        elif kind == "system":
            self.on_system(message["message"])
        elif kind == "message":
            self._show(message)
        elif kind == "auth_error":
            self.on_refused(message.get("message"))
            self.disconnect()
        # any other type: ignored (ECP-MSG-03)

    def _take_key(self, message):
        try:
            wrapped = base64.b64decode(message["encrypted_key"])
            self.room = Fernet(self.private_key.decrypt(wrapped, OAEP))
        except Exception as error:
            print(f"key exchange error: {error!r}", file=sys.stderr)

    def _show(self, message):
        sender = message.get("sender", "Unknown")
        payload = message["message"]
        encrypted = message.get("encrypted", False)
        if encrypted and self.room is not None:
            try:
                text = self.room.decrypt(base64.b64decode(payload)).decode("utf-8")
            except Exception:
                self.on_message(sender, None, True)  # undecryptable, never shown as text
                return
            self.on_message(sender, text, True)
        else:
            self.on_message(sender, payload, bool(encrypted))
