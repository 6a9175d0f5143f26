/**
 * The test vectors kept in this folder (SOURCE.md says where each comes from), read and typed in
 * one place for every test that checks crypto against them: the protocol's, and the browser page's.
 */
import { readFileSync } from 'node:fs';

/** A Fernet specification vector (fernet/FORMAT.md). */
export interface FernetVector {
  secret: string;
  token: string;
  now: string;
  src?: string;
  iv?: number[];
  ttl_sec?: number;
  desc?: string;
}

export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  ct: string;
  label: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

export interface WycheproofGroup {
  type: string;
  keySize: number;
  sha: string;
  mgf: string;
  mgfSha: string;
  privateKeyPkcs8: string;
  privateKeyPem: string;
  tests: WycheproofTest[];
}

export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

/** Project Wycheproof's RSA-OAEP files for v1's parameters (2048 bits, SHA-256, MGF1-SHA-256). */
export const OAEP_FILES = [
  'rsa_oaep_2048_sha256_mgf1sha256_test.json',
  'rsa_oaep_misc_2048_sha256_mgf1sha256_extract.json',
] as const;

const readJson = (path: string): unknown => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));

/** The Fernet specification's vectors of one kind. */
export function fernetVectors(kind: 'generate' | 'verify' | 'invalid'): FernetVector[] {
  return readJson(`fernet/${kind}.json`) as FernetVector[];
}

/** One of OAEP_FILES. */
export function wycheproofFile(name: (typeof OAEP_FILES)[number]): WycheproofFile {
  return readJson(`wycheproof/${name}`) as WycheproofFile;
}
