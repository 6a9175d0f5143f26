"""Wraps ChatClient in the kit's driver contract (docs/conformance.md, "Checking a client").

    ecp conformance --client "python3 docs/examples/python-client/driver.py {host} {port} {username} {password}"
"""
import json
import os
import sys

from chat_client import ChatClient


def show(sender, text, encrypted):  # C3, C4: one JSON line per message shown
    shown = {"sender": sender, "undecryptable": True} if text is None else {"sender": sender, "text": text, "encrypted": encrypted}
    print(json.dumps(shown), flush=True)


def ended():  # C5, C7: exit when the session ends, non-zero if the join was refused
    sys.stdout.flush()
    os._exit(1 if refused else 0)


refused = []
client = ChatClient(on_message=show, on_refused=refused.append, on_disconnect=ended)
if not client.connect(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]):
    sys.exit(3)
for line in sys.stdin:  # C1: each line a chat message
    client.send_message(line.rstrip("\n"))
client.disconnect()  # C6: the input ended
