/**
 * What an `EcpClient` tells its user, as typed events. Every event carries its arrival `time`.
 */
import type { ClientError } from './errors.ts';
import type { KeyGeneration } from './keyring.ts';

interface ChatMessageBase {
  /** The sender's name, as set by the server. */
  sender: string;
  /** Whether `sender` is this client's own name: the server's echo of something we sent. */
  own: boolean;
  time: Date;
}

/** A chat message, discriminated by `kind` so undecryptable payloads can never be shown as text. */
export type ChatMessage =
  | (ChatMessageBase & {
      /** Sent with `encrypted: true` and opened with a room key we hold. */
      kind: 'encrypted';
      text: string;
      /** Which room key opened it: `previous` means it was sealed before the latest key change. */
      key: KeyGeneration;
    })
  | (ChatMessageBase & {
      /** Sent with `encrypted: false`: the text travelled in the clear. Never treated as ciphertext. */
      kind: 'plaintext';
      text: string;
    })
  | (ChatMessageBase & {
      /** Sent with `encrypted: true` but no key we hold opens it. */
      kind: 'undecryptable';
      /** The payload as received, for diagnostics only. */
      payload: string;
      /** Why it could not be opened. */
      reason: string;
    });

export interface JoinedEvent {
  username: string;
  /** Every member, in join order, including us. */
  users: string[];
  time: Date;
}

export interface UsersEvent {
  users: string[];
  /** Names in `users` that were not in the previous list. */
  joined: string[];
  /** Names of the previous list that are gone. */
  left: string[];
  time: Date;
}

export interface SystemEvent {
  /** The server's notice, verbatim. */
  text: string;
  time: Date;
}

export interface KeyChangedEvent {
  time: Date;
}

/**
 * A line from the server the client could not use. The client ignores it and keeps going:
 * `error.detail` says what was wrong (ECP_INVALID_JSON, ECP_NOT_AN_OBJECT, ECP_UNKNOWN_TYPE,
 * ECP_MISSING_FIELD, ECP_WRONG_FIELD_TYPE, ECP_LINE_TOO_LONG, ECP_INVALID_UTF8).
 */
export interface ProtocolErrorEvent {
  error: ClientError;
  /** The offending line, cut to 200 characters; absent for framing errors. */
  line: string | undefined;
  time: Date;
}

export interface ClosedEvent {
  /** For people: 'closed by client', the server's shutdown notice, or the error's message. */
  reason: string;
  /** Whether this client asked for the close (`close()`), as opposed to the server or the network. */
  byClient: boolean;
  /** Set when the connection ended abnormally (refused, lost, timed out, invalid key...). */
  error: ClientError | undefined;
  time: Date;
}

/** The event map of `EcpClient`. `closed` is always the last event, emitted exactly once. */
export interface ClientEvents {
  joined: [JoinedEvent];
  message: [ChatMessage];
  users: [UsersEvent];
  system: [SystemEvent];
  keyChanged: [KeyChangedEvent];
  protocolError: [ProtocolErrorEvent];
  closed: [ClosedEvent];
}
