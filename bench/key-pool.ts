/**
 * A few RSA-2048 key pairs shared by all bench clients. Generating a key pair costs 50-500 ms of
 * CPU, so a fresh one per client would measure the generator, not the server; the server cannot
 * tell (and v1 does not care) that two clients present the same public key.
 */
import { generateRsaKeyPair } from '../protocol/index.ts';

export interface PooledKeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

const cache: PooledKeyPair[] = [];

/** `size` key pairs, generated once per process and reused by later runs. */
export async function keyPool(size: number): Promise<PooledKeyPair[]> {
  while (cache.length < size) {
    const missing = size - cache.length;
    const pairs = await Promise.all(Array.from({ length: missing }, () => generateRsaKeyPair()));
    for (const pair of pairs) {
      cache.push({
        publicKeyPem: pair.publicKeyPem,
        privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      });
    }
  }
  return cache.slice(0, size);
}
