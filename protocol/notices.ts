/**
 * The exact texts v1 servers send (docs/protocol.md, System notices and Errors). Clients and the
 * conformance kit compare against these; the prototype sends the same words.
 */
export const notices = {
  welcome: (username: string) => `Welcome ${username}! Establishing secure connection...`,
  secured: 'Secure connection established! You can now send encrypted messages.',
  joined: (username: string) => `${username} has joined the chat`,
  left: (username: string) => `${username} has left the chat`,
  usernameTaken: 'Username already taken',
  shuttingDown: 'Server is shutting down',
  lineTooLong: (maxLineBytes: number) => `Line too long (limit ${maxLineBytes} bytes); closing connection`,
  /** The prototype's answer to a key it cannot use (a defect: v1 servers refuse the key instead). */
  keyFailed: 'Error establishing secure connection',
} as const;

/** The `message` of every `auth_error` a v1 server sends. */
export const authErrors = {
  invalidPassword: 'Invalid server password',
  invalidHandshake: (problem: string) => `Invalid handshake: ${problem}`,
  invalidUsername: 'Invalid username: must be 1-32 printable characters',
  invalidPublicKey: (reason: string) => `Invalid public key: ${reason}`,
  handshakeTimeout: 'Handshake timeout',
  serverFull: 'Server full',
  /** Only from a server that limits connections per address (an option, off by default). */
  tooManyFromAddress: 'Too many connections from your address',
  /** Only from a node of a clustered room that cannot reach the room's Redis to admit anyone. */
  roomUnavailable: 'Room unavailable, try again later',
} as const;
