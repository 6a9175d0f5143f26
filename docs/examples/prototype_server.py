#!/usr/bin/env python3
"""A v1 server written the way the original course prototype wrote it.

It behaves on the wire as docs/protocol.md (Appendix A) says the prototype does, defects included:
threads and one global lock, blocking sends under that lock, no line limit, no handshake timeout,
no connection limit, and a public key it cannot load still admits the user. Use it as an example
of a server in another language to point `ecp conformance` at:

    ecp conformance --spawn "python3 docs/examples/prototype_server.py --port {port}"

It passes the core and strict profiles and fails most of robustness, as the prototype does.
Needs the `cryptography` package (Debian: python3-cryptography).
"""

import argparse
import base64
import json
import socket
import threading

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


class Refused(Exception):
    """The handshake was refused: the connection is closed."""


class ChatServer:
    def __init__(self, host, port, password):
        self.host = host
        self.port = port
        self.password = password
        # One room key for the server's whole lifetime, as its 44-character text.
        self.symmetric_key = Fernet.generate_key()
        self.users = {}  # username -> socket, in join order
        self.lock = threading.Lock()

    def serve_forever(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen()
        print(f"listening on {self.host}:{self.port}", flush=True)
        while True:
            client, _address = listener.accept()
            threading.Thread(target=self.handle_client, args=(client,), daemon=True).start()

    @staticmethod
    def send(client, message):
        client.sendall((json.dumps(message) + "\n").encode("utf-8"))

    def broadcast(self, message, exclude_user=None):
        # The prototype's defect: blocking writes while holding the one lock, so a client that
        # stops reading stalls every broadcast.
        with self.lock:
            for username, client in list(self.users.items()):
                if username == exclude_user:
                    continue
                try:
                    self.send(client, message)
                except OSError:
                    pass

    def user_list(self):
        with self.lock:
            return {"type": "user_list", "users": list(self.users)}

    def handle_client(self, client):
        username = None
        buffer = b""
        try:
            while True:
                data = client.recv(1024)
                if not data:
                    break
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    try:
                        message = json.loads(line.decode("utf-8"))
                    except ValueError:
                        continue
                    if not isinstance(message, dict):
                        continue
                    if message.get("type") == "handshake" and username is None:
                        username = self.handshake(client, message)
                    elif message.get("type") == "message" and username:
                        if not isinstance(message.get("message"), str) or not isinstance(message.get("encrypted"), bool):
                            continue
                        relayed = {
                            "type": "message",
                            "sender": username,
                            "message": message["message"],
                            "encrypted": message["encrypted"],
                        }
                        self.broadcast(relayed, exclude_user=username)
                        with self.lock:
                            self.send(client, relayed)
        except (OSError, KeyError, TypeError, AttributeError, Refused):
            pass
        finally:
            if username is not None:
                with self.lock:
                    self.users.pop(username, None)
                self.broadcast(self.user_list())
                self.broadcast({"type": "system", "message": f"{username} has left the chat"})
            client.close()

    def handshake(self, client, message):
        """The admitted name, or None to wait for another handshake. Raises Refused to close."""
        name, password, public_key_pem = message["username"], message["server_password"], message["public_key"]
        if not all(isinstance(field, str) for field in (name, password, public_key_pem)):
            raise TypeError("handshake fields must be strings")  # ends the connection, silently
        if password != self.password:
            self.send(client, {"type": "auth_error", "message": "Invalid server password"})
            raise Refused()
        with self.lock:
            if name in self.users:
                self.send(client, {"type": "system", "message": "Username already taken"})
                return None
            self.users[name] = client
            self.send(client, {"type": "system", "message": f"Welcome {name}! Establishing secure connection..."})
            try:
                public_key = serialization.load_pem_public_key(public_key_pem.encode())
                encrypted_key = public_key.encrypt(
                    self.symmetric_key,
                    padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
                )
                self.send(client, {"type": "key_exchange", "encrypted_key": base64.b64encode(encrypted_key).decode()})
                self.send(
                    client,
                    {"type": "system", "message": "Secure connection established! You can now send encrypted messages."},
                )
            except Exception:
                self.send(client, {"type": "system", "message": "Error establishing secure connection"})
        self.broadcast(self.user_list())
        self.broadcast({"type": "system", "message": f"{name} has joined the chat"}, exclude_user=name)
        return name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--password", default="secret123")
    # The command-line contract (docs/protocol.md section 15): limit flags are accepted; the
    # prototype enforces none of them.
    for flag in ("--max-line-bytes", "--handshake-timeout-ms", "--max-pending-output-bytes", "--max-connections", "--max-username-length"):
        parser.add_argument(flag, type=int)
    args = parser.parse_args()
    ChatServer(args.host, args.port, args.password).serve_forever()


if __name__ == "__main__":
    main()
