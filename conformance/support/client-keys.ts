/**
 * The keys test clients present: RSA key pairs generated once per run (in parallel) and reused, so key
 * generation does not dominate the run time. v1 clients use a fresh key per connection; a server
 * cannot tell the difference, so reuse is fine for testing. The pool is cached in the OS temp
 * directory, so a second run starts at once. Also holds the unusable keys the security scenarios send.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportPublicKeyPem, type RsaKeyPair } from '../../protocol/index.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

interface CachedKeys {
  rsa2048: string[];
  rsa1024: string;
  ecP256: string;
}

export class ClientKeys {
  readonly #pairs: RsaKeyPair[];
  #next = 0;
  /** An RSA key too short for v1 (1024 bits). */
  readonly weakRsa: RsaKeyPair;
  /** A valid SPKI PEM of an EC P-256 key: parseable, but not RSA. */
  readonly ecPublicKeyPem: string;
  /** PEM armour around bytes that are not a key. */
  readonly malformedPem =
    '-----BEGIN PUBLIC KEY-----\nTm90IGEga2V5IGF0IGFsbCwganVzdCBzb21lIHRleHQu\n-----END PUBLIC KEY-----\n';

  private constructor(
    pairs: RsaKeyPair[],
    weakRsa: RsaKeyPair,
    ecPublicKeyPem: string,
    cacheDirectory: string | false,
  ) {
    this.#pairs = pairs;
    this.#cacheDirectory = cacheDirectory;
    this.weakRsa = weakRsa;
    this.ecPublicKeyPem = ecPublicKeyPem;
  }

  readonly #cacheDirectory: string | false;
  readonly #larger = new Map<number, Promise<RsaKeyPair>>();

  /** An RSA pair of a size other than 2048 bits, made (or read from the cache) on first use. */
  rsaOfBits(bits: number): Promise<RsaKeyPair> {
    let pair = this.#larger.get(bits);
    if (!pair) {
      pair = this.#loadOrGenerate(bits);
      this.#larger.set(bits, pair);
    }
    return pair;
  }

  async #loadOrGenerate(bits: number): Promise<RsaKeyPair> {
    const path = this.#cacheDirectory
      ? join(this.#cacheDirectory, `ecp-conformance-key-rsa${bits}.pem`)
      : undefined;
    if (path) {
      try {
        return pairFromPem(await readFile(path, 'utf8'));
      } catch {
        // Not cached yet (or damaged): generate below.
      }
    }
    const { privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: bits,
      publicExponent: 0x10001,
    });
    const pem = privatePem(privateKey);
    if (path) await writeAtomically(path, pem);
    return pairFromPem(pem);
  }

  /** The next RSA-2048 pair, round robin. */
  next(): RsaKeyPair {
    const pair = this.#pairs[this.#next % this.#pairs.length]!;
    this.#next += 1;
    return pair;
  }

  static async create(size: number, cacheDirectory: string | false = tmpdir()): Promise<ClientKeys> {
    const cachePath = cacheDirectory ? join(cacheDirectory, `ecp-conformance-keys-${size}.json`) : undefined;
    const cached = cachePath ? await readCache(cachePath, size) : undefined;
    const keys = cached ?? (await generateKeys(size));
    if (cachePath && !cached) await writeCache(cachePath, keys);
    const ecPublicKeyPem = keys.ecP256;
    return new ClientKeys(
      keys.rsa2048.map(pairFromPem),
      pairFromPem(keys.rsa1024),
      ecPublicKeyPem,
      cacheDirectory,
    );
  }
}

async function generateKeys(size: number): Promise<CachedKeys> {
  const rsa = (bits: number) =>
    generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 0x10001 }).then(({ privateKey }) =>
      privatePem(privateKey),
    );
  const [rsa1024, ec, ...rsa2048] = await Promise.all([
    rsa(1024),
    generateKeyPairAsync('ec', { namedCurve: 'P-256' }),
    ...Array.from({ length: size }, () => rsa(2048)),
  ]);
  return {
    rsa2048: rsa2048 as string[],
    rsa1024: rsa1024 as string,
    ecP256: exportPublicKeyPem((ec as { publicKey: KeyObject }).publicKey),
  };
}

function privatePem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function pairFromPem(pem: string): RsaKeyPair {
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicKeyPem: exportPublicKeyPem(publicKey) };
}

async function readCache(path: string, size: number): Promise<CachedKeys | undefined> {
  try {
    const keys = JSON.parse(await readFile(path, 'utf8')) as CachedKeys;
    if (!Array.isArray(keys.rsa2048) || keys.rsa2048.length !== size) return undefined;
    // Parse every key now, so a damaged cache is regenerated rather than failing scenarios.
    for (const pem of [...keys.rsa2048, keys.rsa1024]) createPrivateKey(pem);
    createPublicKey(keys.ecP256);
    return keys;
  } catch {
    return undefined;
  }
}

function writeCache(path: string, keys: CachedKeys): Promise<void> {
  return writeAtomically(path, JSON.stringify(keys));
}

async function writeAtomically(path: string, text: string): Promise<void> {
  // Write then rename, so parallel workers never read a half-written file.
  const partial = `${path}.${process.pid}.partial`;
  try {
    await writeFile(partial, text, { mode: 0o600 });
    await rename(partial, path);
  } catch {
    // A cache is only a speed-up.
  }
}
