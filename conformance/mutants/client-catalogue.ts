/**
 * The catalogue of deliberately broken clients: the reference client (`ecp client --json`) with
 * one fault each, and the client scenario that catches it. A fault either sits between the client
 * and the room (a proxy that holds the room key, as a faulty client would: it swaps in its own RSA
 * key, so it can read and rewrite everything) or in what the client prints and how it exits.
 * test/conformance/client-mutants.integration.test.ts checks that each is caught by the scenario named here.
 */
import { Fernet, openText, sealText } from '../../protocol/index.ts';

/** What a fault sees of the session: the room key once known, and each line either way. */
export interface ClientFaultContext {
  /** The room key the client was last handed (undefined before the join). */
  roomKey(): string | undefined;
}

export interface ClientFault {
  /** Rewrites (or drops, with undefined) a line from the client to the room. */
  fromClient?(
    message: Record<string, unknown>,
    line: string,
    context: ClientFaultContext,
  ): string | undefined;
  /** Rewrites (or drops) a line from the room to the client; 'close' ends the connection. */
  toClient?(
    message: Record<string, unknown>,
    line: string,
    context: ClientFaultContext,
    keyExchanges: number,
  ): string | undefined | 'close';
  /** The RSA modulus the client presents. Default 2048. */
  keyBits?: number;
  /** Skips the verification of the room's TLS certificate. */
  trustsAnyCertificate?: boolean;
  /** Writes this before anything else on stdout. */
  banner?: string;
  /** Exits 0 whatever happened. */
  alwaysExitsZero?: boolean;
  /** Keeps running once the session has ended. */
  neverExits?: boolean;
}

export interface ClientMutant {
  name: string;
  /** The fault, in a student's words. */
  fault: string;
  requirement: string;
  /** The scenario that must fail (as reports print it). */
  caughtBy: string;
  /** Transports it shows on (a TLS fault shows only over TLS); default all. */
  transports?: readonly string[];
  build: ClientFault;
}

function reseal(message: Record<string, unknown>, key: string | undefined): Record<string, unknown> {
  if (key === undefined || message.type !== 'message' || message.encrypted !== true) return message;
  try {
    openText(new Fernet(key), String(message.message));
    return message;
  } catch {
    // What a client without an integrity check would make of it: some text, shown as genuine.
    return { ...message, message: sealText(new Fernet(key), 'garbled text, shown as genuine') };
  }
}

export const CLIENT_MUTANTS: readonly ClientMutant[] = [
  {
    name: 'sends plaintext',
    fault: 'sends every chat message in the clear, with "encrypted": false, although it holds the key',
    requirement: 'ECP-CHAT-06',
    caughtBy: 'The client sends its text as the standard base64 of a Fernet token, with encrypted true',
    build: {
      fromClient: (message, line, context) => {
        const key = context.roomKey();
        if (message.type !== 'message' || key === undefined) return line;
        return JSON.stringify({
          type: 'message',
          message: openText(new Fernet(key), String(message.message)),
          encrypted: false,
        });
      },
    },
  },
  {
    name: 'keeps the first key',
    fault: 'ignores every key_exchange after the first',
    requirement: 'ECP-KX-07',
    caughtBy: 'The client seals with a new room key sent mid-session',
    build: {
      toClient: (message, line, _context, keyExchanges) =>
        message.type === 'key_exchange' && keyExchanges > 1 ? undefined : line,
    },
  },
  {
    name: 'no integrity check',
    fault: 'shows a token that fails its HMAC check as text from the sender',
    requirement: 'ECP-CHAT-07',
    caughtBy: "A tampered token is never shown as the sender's text",
    build: {
      toClient: (message, line, context) =>
        message.type === 'message' ? JSON.stringify(reseal(message, context.roomKey())) : line,
    },
  },
  {
    name: 'dies on unknown types',
    fault: 'drops the connection on a message type it does not know',
    requirement: 'ECP-MSG-03',
    caughtBy: 'The client ignores a message of a type it does not know',
    build: {
      toClient: (message, line) =>
        ['system', 'key_exchange', 'user_list', 'message', 'auth_error'].includes(String(message.type))
          ? line
          : 'close',
    },
  },
  {
    name: 'short key',
    fault: 'presents a 1024-bit RSA key',
    requirement: 'ECP-KX-01',
    caughtBy: 'The client presents an RSA public key of at least 2048 bits with exponent 65537',
    build: { keyBits: 1024 },
  },
  {
    name: 'repeats a member',
    fault: 'writes "type" twice in every chat message',
    requirement: 'ECP-MSG-04',
    caughtBy: 'The client never sends an object with two members of the same name',
    build: {
      fromClient: (message, line) =>
        message.type === 'message' ? line.replace(/^\{/, '{"type":"message",') : line,
    },
  },
  {
    name: 'pretty-prints',
    fault: 'writes its chat messages as indented JSON over several lines',
    requirement: 'ECP-FR-02',
    caughtBy: 'Every message the client sends is one JSON object on a line of its own',
    transports: ['tcp', 'tls'],
    build: {
      fromClient: (message, line) => (message.type === 'message' ? JSON.stringify(message, null, 2) : line),
    },
  },
  {
    name: 'exits 0 when refused',
    fault: 'exits 0 when its join is refused',
    requirement: 'ECP-AUTH-07',
    caughtBy: 'A client refused for a wrong password is not a member',
    build: { alwaysExitsZero: true },
  },
  {
    name: 'trusts any certificate',
    fault: "does not verify the server's TLS certificate",
    requirement: 'ECP-TR-03',
    caughtBy: 'The client refuses a certificate that names another host',
    transports: ['tls', 'wss'],
    build: { trustsAnyCertificate: true },
  },
  {
    name: 'banner on stdout',
    fault: 'prints a greeting that is not JSON on stdout',
    requirement: 'ECP-CHAT-07',
    caughtBy: "The client shows a message sealed with the room key as the sender's text",
    build: { banner: 'Welcome to the chat!' },
  },
  {
    name: 'lingers',
    fault: 'keeps running after the server has dropped the connection',
    requirement: 'ECP-LV-05',
    caughtBy: 'The client ends the session when the server drops the connection',
    build: { neverExits: true },
  },
];

export function clientMutantSlug(mutant: ClientMutant): string {
  return mutant.name.replaceAll(' ', '-');
}

/** A client mutant by name, slug or number in `ecp mutant list`'s client part (1-based). */
export function resolveClientMutant(name: string): ClientMutant | undefined {
  const number = Number(name);
  if (Number.isInteger(number) && String(number) === name.trim()) return CLIENT_MUTANTS[number - 1];
  const wanted = name.trim().toLowerCase().replaceAll('-', ' ');
  return CLIENT_MUTANTS.find((mutant) => mutant.name === wanted);
}
