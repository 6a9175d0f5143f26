/**
 * One attempt to connect, bounded: it settles once, on success, failure, timeout or abort, and
 * cleans up after itself whichever comes first. Every transport's connect() runs through it.
 */
import type { ConnectOptions } from './connection.ts';
import { TransportError } from './errors.ts';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface Attempt<T> {
  succeed(value: T): void;
  fail(error: Error): void;
}

/**
 * Runs `start`, which begins connecting and returns how to abandon the attempt. Rejects with
 * ECP_CONNECT_TIMEOUT after `timeoutMs`, or with the signal's reason when it aborts.
 */
export function connectAttempt<T>(
  where: string,
  options: ConnectOptions,
  start: (attempt: Attempt<T>) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let abandon: () => void = () => {};
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      finish();
      abandon();
      reject(new TransportError('ECP_CONNECT_TIMEOUT', `no connection to ${where} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => {
      finish();
      abandon();
      reject(options.signal?.reason);
    };
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    if (options.signal?.aborted) {
      clearTimeout(timer);
      reject(options.signal.reason);
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    abandon = start({
      succeed: (value) => {
        if (finish()) resolve(value);
      },
      fail: (error) => {
        if (finish()) {
          abandon();
          reject(error);
        }
      },
    });
  });
}
