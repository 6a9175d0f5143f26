/** RSA key pairs for tests: generating one takes tens of milliseconds, so a test file shares a few. */
import { generateRsaKeyPair, type RsaKeyPair } from '../../protocol/index.ts';

let keyCache: Promise<RsaKeyPair[]> | undefined;

/** A few 2048-bit key pairs, generated once per test file (module) and shared by its tests. */
export function testKeys(): Promise<RsaKeyPair[]> {
  keyCache ??= Promise.all([1, 2, 3, 4].map(() => generateRsaKeyPair(2048)));
  return keyCache;
}
