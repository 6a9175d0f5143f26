/**
 * The ECP v1 reference server, as a library.
 *
 *   const server = await startServer({ port: 0, password: 'secret123', logLevel: 'silent' });
 *   server.port; // the chosen port
 *   await server.close();
 *
 * The building blocks below (Room, Session, Outbox, the handshake check) are exported for test
 * fixtures that compose a server differently; the server itself has no fault-injection switches.
 */

export {
  FlowControl,
  type FlowSettings,
  InputGate,
  MAX_INPUT_BYTES_PER_TURN,
  OutputAccount,
  type OutputSource,
  watermarksFor,
} from './flow-control.ts';
export {
  checkHandshake,
  type HandshakePolicy,
  type HandshakeVerdict,
  invalidHandshakeText,
} from './handshake.ts';
export { chatPrefix, encodeChatLine, encodeLine } from './line-encoder.ts';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.ts';
export { createMetricsRegistry } from './metrics.ts';
export {
  DEFAULT_HOST,
  DEFAULT_MAX_TOTAL_OUTPUT_BYTES,
  type FloodOptions,
  generatePassword,
  OptionsError,
  type PasswordSources,
  type ResolvedFloodOptions,
  type ResolvedPassword,
  resolveFloodOptions,
  resolveLimits,
  resolvePassword,
} from './options.ts';
export { FlushQueue, Outbox, type OutboxOptions } from './outbox.ts';
export { PasswordCheck } from './password.ts';
export { Room, type RoomMember, type RoomOptions } from './room.ts';
export { type EcpServer, type ServerOptions, startServer } from './server.ts';
export { type CloseReason, Session, type SessionContext, type SessionState } from './session.ts';
export {
  type BadInputKind,
  createStats,
  type HandshakeFailureReason,
  type ServerStats,
  type SlowReaderRule,
} from './stats.ts';
export { TokenBucket } from './token-bucket.ts';
