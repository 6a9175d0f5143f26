/** The version of the Encrypted Chat Protocol this kit speaks (docs/protocol.md): ECP v1. */
export const PROTOCOL_VERSION = 1;
