/**
 * The tags that say on which transports a scenario applies, server's and client's alike; elsewhere
 * the scenario is skipped, and the report says why.
 */
import { isByteStream, type TransportName, usesTls } from '../transport/index.ts';

export interface TransportRule {
  applies: (transport: TransportName) => boolean;
  /** Completes "this scenario ..." in the skip note. */
  why: string;
}

export const TRANSPORT_TAGS: Readonly<Record<string, TransportRule>> = {
  '@byte-stream': {
    applies: isByteStream,
    why: 'checks how lines travel in a byte stream (split, joined, raw bytes); WebSocket carries one message per frame and has scenarios of its own',
  },
  '@websocket': {
    applies: (transport) => transport === 'ws' || transport === 'wss',
    why: 'checks the WebSocket mapping',
  },
  '@tls': { applies: usesTls, why: 'checks TLS' },
};
