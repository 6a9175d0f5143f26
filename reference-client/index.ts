/** The ECP reference client: public API. */
export {
  type ClientOptions,
  type ClientState,
  DEFAULT_JOIN_TIMEOUT_MS,
  EcpClient,
  type JoinResult,
  type SendOptions,
} from './client.ts';
export { ClientError, type ClientErrorCode, isAuthenticationError } from './errors.ts';
export type {
  ChatMessage,
  ClientEvents,
  ClosedEvent,
  JoinedEvent,
  KeyChangedEvent,
  ProtocolErrorEvent,
  SystemEvent,
  UsersEvent,
} from './events.ts';
export { ExitCode, exitCodeFor } from './exit-codes.ts';
export { HELP_TEXT, type InteractiveIo, runInteractive } from './interactive.ts';
export { type JsonModeIo, type JsonModeOptions, runJsonMode } from './json-mode.ts';
export { DEFAULT_KEY_GRACE_MS, type KeyGeneration, Keyring, type OpenedText } from './keyring.ts';
export { shouldUseColor, TerminalFormat } from './terminal-format.ts';
