/** Records a client's events, so a test can wait for one that may already have happened. */
import { DEFAULT_WAIT_MS } from '../../conformance/peer/index.ts';
import type { ClientEvents, EcpClient } from '../../reference-client/index.ts';

/** Records every event of a client, so a test can wait for one that may already have happened. */
export class EventRecorder {
  readonly events: Array<{ name: keyof ClientEvents; value: ClientEvents[keyof ClientEvents][0] }> = [];
  readonly #listeners = new Set<() => void>();

  constructor(client: EcpClient) {
    for (const name of EVENT_NAMES) {
      client.on(name, (value: ClientEvents[typeof name][0]) => {
        this.events.push({ name, value });
        for (const listener of this.#listeners) listener();
      });
    }
  }

  all<K extends keyof ClientEvents>(name: K): Array<ClientEvents[K][0]> {
    return this.events
      .filter((event) => event.name === name)
      .map((event) => event.value as ClientEvents[K][0]);
  }

  /** The first recorded `name` event that `predicate` accepts, waiting up to `timeoutMs` for it. */
  waitFor<K extends keyof ClientEvents>(
    name: K,
    predicate: (value: ClientEvents[K][0]) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ClientEvents[K][0]> {
    const find = () => this.all(name).find(predicate);
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const value = find();
        if (value === undefined) return;
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`timed out waiting for a '${name}' event`));
      }, timeoutMs);
      this.#listeners.add(check);
    });
  }
}

const EVENT_NAMES: Array<keyof ClientEvents> = [
  'joined',
  'message',
  'users',
  'system',
  'keyChanged',
  'protocolError',
  'closed',
];
