/**
 * One line of advice per server requirement, shown under a failure. Written for a student whose
 * server just failed the scenario: what to change, not what the specification says. The advice
 * for a limit names the value the kit checked and where it came from, and how to declare another.
 */
import { DEFAULT_LIMITS, type Limits } from '../../protocol/index.ts';
import { LIMIT_FLAGS } from '../limits-option.ts';

export const HINTS: Readonly<Record<string, string>> = {
  'ECP-FR-01':
    'Write each message as json.dumps(obj) + "\\n" in one write; never print extra newlines, and end the last line before closing.',
  'ECP-FR-03':
    'Keep a per-connection buffer: append every read, split on b"\\n", keep the incomplete tail for the next read.',
  'ECP-FR-04':
    'Parse every line with a real JSON parser; never match field text or assume an order or spacing.',
  'ECP-FR-05':
    'Strip one trailing "\\r" after splitting on "\\n" (or let the JSON parser treat it as whitespace).',
  'ECP-FR-06':
    "When the connection ends, drop the bytes after the last line feed: Python's file iteration, Go's bufio.Scanner and Java's readLine all hand that fragment over as a last line.",
  'ECP-FR-07':
    'Buffer bytes and split on the byte 0x0A first, then decode each whole line: decoding each read on its own (Python bytes.decode per recv) breaks a character split across two reads.',
  'ECP-MSG-01':
    'Build each outgoing message from the table in section 3.1: the right "type" and every field with its JSON type.',
  'ECP-MSG-02':
    'Read the fields you need and ignore any others; do not reject a message for an unknown field.',
  'ECP-HS-02':
    'After a handshake passes every check, send key_exchange (the room key wrapped with the client key) and a user_list that includes the new name.',
  'ECP-HS-03':
    'Send the join sequence in exactly this order: welcome notice, key_exchange, "Secure connection established..." notice, user_list.',
  'ECP-HS-04': 'When someone is admitted, send the updated user_list to every other member too.',
  'ECP-HS-05':
    'Right after that user_list, send "{name} has joined the chat" to the other members only, not to the newcomer.',
  'ECP-AUTH-01':
    'Compare server_password before admitting; on a mismatch send auth_error and close, whatever the other fields say. In Python compare bytes: hmac.compare_digest raises on a str that is not ASCII.',
  'ECP-AUTH-02': 'Use the exact text "Invalid server password" for the wrong-password auth_error.',
  'ECP-AUTH-03':
    'A name in use gets a system notice and no admission; keep the connection open and unauthenticated. Compare names exactly (case-sensitive).',
  'ECP-AUTH-04': 'Use the exact text "Username already taken" for the taken-name notice.',
  'ECP-AUTH-05':
    'After "Username already taken", go back to waiting for a handshake on that connection; process the next one like a first one.',
  'ECP-AUTH-06':
    'Refuse names that are empty, longer than 32 code points or contain a control character (category Cc); count code points, not bytes or UTF-16 units.',
  'ECP-KX-02':
    'Generate the Fernet key once when the server starts and give the same key to every member; never one key per client.',
  'ECP-KX-03':
    'encrypted_key = base64(RSA-OAEP-SHA256(client public key, the 44 ASCII bytes of the Fernet key text)); OAEP hash and MGF1 both SHA-256, no label.',
  'ECP-KX-04':
    'Load public_key as PEM SubjectPublicKeyInfo and check it is RSA before admitting; otherwise send auth_error "Invalid public key: ..." and close.',
  'ECP-KX-05':
    'Check the RSA modulus size (key.key_size in Python) and refuse anything under 2048 bits with auth_error "Invalid public key: ...".',
  'ECP-CHAT-01':
    'For each chat message from a member, send {"type":"message","sender":name,"message":...,"encrypted":...} to every member, the sender included.',
  'ECP-CHAT-02': 'Relay each chat message to every other member before echoing it to the sender.',
  'ECP-CHAT-03':
    'Set "sender" from the name the connection was admitted with; never copy a sender field from the client.',
  'ECP-CHAT-04':
    'Copy "message" and "encrypted" exactly as received; do not decode, decrypt, validate or re-encode the payload.',
  'ECP-CHAT-05':
    "Handle each connection's lines in order and queue each member's output in order; never drop a line when a write is partial.",
  'ECP-UL-01':
    'Build user_list from the set of admitted members only: add a name on admission, remove it when the connection ends, never twice.',
  'ECP-UL-02':
    'Keep members in an ordered list: append on admission, remove on leave; a member who rejoins goes last.',
  'ECP-SYS-01':
    'On SIGTERM (or your stop command) send "Server is shutting down" to every member, flush what is queued, then close.',
  'ECP-LV-01':
    "When a member's connection ends for any reason (EOF, reset, error, closed by you), remove it and send the new user_list to everyone left.",
  'ECP-LV-02': 'Right after that user_list, send "{name} has left the chat" to the remaining members.',
  'ECP-LV-03': "Remove a departed member's name from the room so a later handshake can use it again.",
  'ECP-LV-04':
    'Only announce the departure of connections that were admitted; a never-admitted connection (even one that asked for a taken name) leaves silently.',
  'ECP-ERR-01':
    "Decode each line as strict UTF-8 and parse it in a try/except: skip a line that fails either, keep the connection and keep serving everyone. Go's encoding/json accepts invalid UTF-8: check utf8.Valid first.",
  'ECP-ERR-02':
    'Dispatch on "type" (exactly that name: Go\'s encoding/json also fills a field from "Type"); for anything other than handshake and message, do nothing and keep reading.',
  'ECP-ERR-03':
    'Ignore chat messages from a connection until it has been admitted; do not relay or answer them.',
  'ECP-ERR-04':
    'Once a connection is admitted, ignore any further handshake on it: no new name, no new join sequence.',
  'ECP-ERR-05':
    'Check that "message" is a string and "encrypted" a boolean before relaying; skip the line otherwise, without closing.',
  'ECP-ERR-06':
    'Check that username, server_password and public_key are all present (names are case-sensitive); otherwise refuse and close.',
  'ECP-ERR-07':
    'Before closing for a malformed handshake, send auth_error "Invalid handshake: missing field \'x\'" (or "field \'x\' must be a string"), naming the first of username, server_password, public_key that is wrong.',
  'ECP-ERR-08':
    'Check that a parsed line is a JSON object before reading fields from it; skip anything else ([], "text", 42, null) and keep the connection.',
  'ECP-ERR-09':
    "Catch every error a connection's input can cause inside that connection: no exception, panic or crash may take the server, the room or another member with it.",
  'ECP-ERR-10':
    'Check that username, server_password and public_key are JSON strings before using them; refuse and close otherwise (a number is not a name).',
  'ECP-ERR-11':
    "Decode each line strictly (Python: decode('utf-8') and catch UnicodeDecodeError; Go: utf8.Valid) and skip the whole line when it fails, instead of errors='ignore' or replacement characters.",
  'ECP-LIM-01':
    'Count the bytes buffered without a newline; past the limit send "Line too long (limit N bytes); closing connection" and close.',
  'ECP-LIM-02':
    'Start a timer when you accept a connection; if it is not admitted when the timer fires, send auth_error "Handshake timeout" and close.',
  'ECP-LIM-03':
    'Never block the room on one socket: give each member its own output queue (or a writer task) instead of blocking writes under a lock.',
  'ECP-LIM-04':
    'Track the bytes queued for each member and close the connection once they exceed the pending-output limit.',
  'ECP-LIM-05': 'Count open connections; beyond the limit answer auth_error "Server full" and close.',
  'ECP-LIM-06':
    'Before closing for an over-long line, send "Line too long (limit N bytes); closing connection" with your limit as N.',
  'ECP-LIM-07':
    'Call a reader slow only when its queued output has not drained for a while (a write deadline) or passes a hard cap, never because it is momentarily behind a fast sender.',
  'ECP-LIM-08':
    'Slow the sender down instead: stop reading its input while the output it produced is not drained past a watermark, and resume when it drains.',
  'ECP-TR-01':
    'Put one transport-neutral connection type under the room: the handshake, relay and limits must not know whether a line came over TCP, TLS or WebSocket.',
  'ECP-TR-02':
    'Set the TLS server\'s minimum version to TLS 1.2 (Python: ssl.TLSVersion.TLSv1_2; Node: minVersion "TLSv1.2"; Go: tls.VersionTLS12).',
  'ECP-TR-04':
    'Peek at the first bytes on the TLS port: a "{" is a plain ECP client; answer it with the auth_error line in clear text and close instead of failing the TLS handshake.',
  'ECP-TR-05':
    'Send each message as one text frame holding its JSON; never join two messages in one frame or split one over several.',
  'ECP-TR-06':
    'Strip one trailing "\\n" (or "\\r\\n") from a text frame before parsing it; a frame without one is a whole message too.',
  'ECP-TR-07':
    'Answer the upgrade with Sec-WebSocket-Protocol: ecp.v1 when offered, accept an upgrade that offers none, and refuse with 400 one that offers only others.',
  'ECP-TR-08': 'Close the connection with code 1003 (unsupported data) on a binary frame.',
  'ECP-TR-09':
    "Set the WebSocket library's maximum message size to the line limit (plus one for a trailing line feed) and close with 1009 beyond it.",
  'ECP-TR-10': 'A line feed before the end of a text frame is a second line: close with code 1007.',
  'ECP-TR-11':
    'Validate text frames as UTF-8 (most WebSocket libraries do) and close with code 1007 on one that is not.',
  'ECP-TR-12': 'Accept upgrades on your ECP path only; answer any other path with HTTP 404.',
  'ECP-SEC-01':
    'Only send key_exchange, user_list and relayed chat to admitted members; keep unadmitted connections out of every broadcast.',
  'ECP-SEC-02':
    'Never include the received password in a message or a log line; compare it with hmac.compare_digest.',
};

/** `a line limit of 65536 bytes (as declared)`, and how to declare another. */
function checked(
  limits: Limits,
  name: keyof Limits,
  what: string,
): { value: number; said: string; declare: string } {
  const value = limits[name];
  const origin = value === DEFAULT_LIMITS[name] ? "the specification's default" : 'as declared';
  return {
    value,
    said: `The kit checked ${what} (${name}=${value}, ${origin}).`,
    declare: `If your server reads ${LIMIT_FLAGS[name]} N, check that it uses it; if it enforces another value, declare that one: start it with ${LIMIT_FLAGS[name]} N inside --spawn (the kit reads it from there) or pass --limits ${name}=N.`,
  };
}

/** Advice for a limit, with the limits the kit checked against. */
const LIMIT_HINTS: Readonly<Record<string, (limits: Limits) => string>> = {
  'ECP-LIM-01': (limits) => {
    const { said, declare } = checked(limits, 'maxLineBytes', `a line limit of ${limits.maxLineBytes} bytes`);
    return `${said} Count the bytes of a line as they arrive and close the connection once a line passes the limit, without waiting for its line feed. ${declare}`;
  },
  'ECP-LIM-06': (limits) => {
    const { said, declare } = checked(limits, 'maxLineBytes', `a line limit of ${limits.maxLineBytes} bytes`);
    return `${said} Before closing, send {"type":"system","message":"Line too long (limit ${limits.maxLineBytes} bytes); closing connection"}, with your limit in it. ${declare}`;
  },
  'ECP-LIM-02': (limits) => {
    const { said, declare } = checked(
      limits,
      'handshakeTimeoutMs',
      `a handshake timeout of ${limits.handshakeTimeoutMs} ms`,
    );
    return `${said} Start a timer when you accept a connection; if it is not admitted when the timer fires, send auth_error "Handshake timeout" and close; never time out a member. ${declare}`;
  },
  'ECP-LIM-04': (limits) => {
    const { said, declare } = checked(
      limits,
      'maxPendingOutputBytes',
      `a pending-output limit of ${limits.maxPendingOutputBytes} bytes`,
    );
    return `${said} Track the bytes queued for each member and not yet written; close the connection once they pass the limit. ${declare}`;
  },
  'ECP-LIM-05': (limits) => {
    const { said, declare } = checked(
      limits,
      'maxConnections',
      `a limit of ${limits.maxConnections} connections`,
    );
    return `${said} Count open connections, admitted or not; answer the one over the limit with auth_error "Server full" and close it. ${declare}`;
  },
  'ECP-AUTH-06': (limits) => {
    const { said, declare } = checked(
      limits,
      'maxUsernameLength',
      `usernames of 1 to ${limits.maxUsernameLength} characters`,
    );
    return `${said} Refuse names that are empty, too long (count code points, not bytes or UTF-16 units) or contain a control character (category Cc). ${declare}`;
  },
};

/** The advice for a requirement; for a limit, worded with the limits the kit checked (when known). */
export function hintFor(requirementId: string, limits?: Limits): string | undefined {
  const forLimit = limits ? LIMIT_HINTS[requirementId] : undefined;
  return forLimit ? forLimit(limits!) : HINTS[requirementId];
}
