import { expect } from 'vitest';
import { CryptoError } from '../../protocol/index.ts';

/** Runs `fn`, expects it to throw a CryptoError, and returns it for checks on its code. */
export function thrownCryptoError(fn: () => unknown): CryptoError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }
  throw new Error('expected a CryptoError, nothing was thrown');
}
