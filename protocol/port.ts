/**
 * The TCP port a server listens on and a client dials when none is given: the prototype's, kept as
 * v1's default (docs/protocol.md, 1.1: v1 has no registered port).
 */
export const DEFAULT_PORT = 8888;
