/**
 * The WebSocket mapping of ECP (docs/protocol.md, Transports): one ECP message per text frame, the
 * subprotocol `ecp.v1`, and a close code for every frame that is not one ECP message.
 */
import type { EndReason } from './connection.ts';
import type { Endpoint } from './endpoint.ts';

/** The subprotocol of ECP v1 over WebSocket. */
export const ECP_SUBPROTOCOL = 'ecp.v1';

/** The close codes this mapping uses (RFC 6455 section 7.4.1), documented in docs/protocol.md. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
} as const;

export const END_CODES: Record<EndReason, number> = {
  normal: CLOSE_CODES.normal,
  going_away: CLOSE_CODES.goingAway,
  policy: CLOSE_CODES.policyViolation,
  too_big: CLOSE_CODES.messageTooBig,
};

export const NEWLINE = 0x0a;
export const CARRIAGE_RETURN = 0x0d;

/** The wire form of a message is a line; a frame carries it without its line feed. */
export function stripNewline(line: Buffer | string): Buffer | string {
  if (typeof line === 'string') return line.endsWith('\n') ? line.slice(0, -1) : line;
  return line.length > 0 && line[line.length - 1] === NEWLINE ? line.subarray(0, line.length - 1) : line;
}

/** The ws:// or wss:// URL of an endpoint ('/' when it names no path). */
export function urlOf(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.transport}://${host}:${endpoint.port}${endpoint.path || '/'}`;
}
