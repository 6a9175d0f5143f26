/**
 * WebSocket keep-alive on the server side: every connection is pinged at an interval, and one that
 * sent nothing (not even the pong) since the previous ping is closed as gone. A peer whose machine
 * vanished never sends a FIN; without this its connection would stay a member for ever.
 */
import { WebSocket } from 'ws';
import type { WebSocketConnection } from './websocket-connection.ts';

export const DEFAULT_PING_INTERVAL_MS = 30_000;

export class KeepAlive {
  /** Per connection: whether a pong (or any frame) came since the last ping. */
  readonly #alive = new Map<WebSocketConnection, { ws: WebSocket; alive: boolean }>();
  readonly #timer: NodeJS.Timeout;

  constructor(intervalMs: number = DEFAULT_PING_INTERVAL_MS) {
    this.#timer = setInterval(() => this.#tick(), intervalMs);
    this.#timer.unref();
  }

  watch(connection: WebSocketConnection, ws: WebSocket): void {
    const state = { ws, alive: true };
    this.#alive.set(connection, state);
    const heard = () => {
      state.alive = true;
    };
    ws.on('pong', heard);
    ws.on('message', heard);
    connection.once('close', () => this.#alive.delete(connection));
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    for (const [connection, state] of this.#alive) {
      if (!state.alive) {
        connection.terminate(
          Object.assign(new Error('no pong within the ping interval'), { code: 'ECP_PING_TIMEOUT' }),
        );
        continue;
      }
      state.alive = false;
      if (state.ws.readyState === WebSocket.OPEN) state.ws.ping();
    }
  }
}
