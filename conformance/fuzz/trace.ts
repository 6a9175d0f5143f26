/**
 * What an executed history leaves behind: for each connection, what it sent and when, and every
 * line it received, in order. The checker judges a trace and nothing else.
 */

export interface SentChat {
  /** The payload, unique in the run. */
  payload: string;
  /** Its number among this connection's chats, from 1. */
  seq: number;
  at: number;
}

export interface ReceivedLine {
  at: number;
  line: string;
  /** The line as a JSON object, or undefined when it is not one. */
  message: Record<string, unknown> | undefined;
}

export interface ConnectionTrace {
  /** Unique in the run, from 1. */
  id: number;
  /** The history's client that opened it. */
  client: number;
  handshakes: { name: string; at: number }[];
  chats: SentChat[];
  received: ReceivedLine[];
  /** When this side closed it (leave or abort). */
  closedByClientAt: number | undefined;
  /** When the connection was seen to close (by either side). */
  closedAt: number | undefined;
}

export interface Trace {
  /** What the run's names and payloads end with, so leftovers of earlier runs can be told apart. */
  tag: string;
  connections: ConnectionTrace[];
  /** Whether the room went quiet after the last step (quiescence checks apply only then). */
  quiet: boolean;
}

/** The connections still open at the end: members who stayed, if they were admitted. */
export function stayedOpen(connection: ConnectionTrace): boolean {
  return connection.closedByClientAt === undefined && connection.closedAt === undefined;
}
