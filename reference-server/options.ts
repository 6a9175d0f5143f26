/**
 * Resolving what a server runs with: address, limits and password. Shared by the library API
 * (`startServer`) and the `ecp server` command, so both validate the same way and say the same thing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_LIMITS, type Limits } from '../protocol/index.ts';

export const DEFAULT_HOST = '127.0.0.1';

/** A flag or option value a server cannot run with. The CLI turns it into exit code 2. */
export class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

/** The smallest value each limit accepts. Anything smaller would make the server unusable. */
const LIMIT_MINIMUMS: Record<keyof Limits, number> = {
  maxLineBytes: 1,
  handshakeTimeoutMs: 1,
  maxPendingOutputBytes: 1,
  slowReaderTimeoutMs: 1,
  maxConnections: 1,
  maxUsernameLength: 1,
};

/** The server's total output budget by default: 256 MiB (see docs/protocol.md, ECP-LIM-08). */
export const DEFAULT_MAX_TOTAL_OUTPUT_BYTES = 256 * 1024 * 1024;

/** Flood control and the other opt-in protections, as given to startServer and `ecp server`. */
export interface FloodOptions {
  /** Output queued for all connections together above which no input is read. Default 256 MiB. */
  maxTotalOutputBytes?: number | undefined;
  /** Messages per second one connection may send; faster ones wait (token bucket). 0 or undefined: off. */
  maxMessagesPerSecond?: number | undefined;
  /** Messages a connection may send at once before the rate applies. Default: one second's worth (at least 1). */
  messageBurst?: number | undefined;
  /** Open connections from one IP address; more are refused with `Too many connections from your address`. 0 or undefined: off. */
  maxConnectionsPerAddress?: number | undefined;
}

export interface ResolvedFloodOptions {
  maxTotalOutputBytes: number;
  rateLimit: { perSecond: number; burst: number } | undefined;
  maxConnectionsPerAddress: number | undefined;
}

/** Checks the flood-control options; off unless given. */
export function resolveFloodOptions(options: FloodOptions): ResolvedFloodOptions {
  const maxTotalOutputBytes = options.maxTotalOutputBytes ?? DEFAULT_MAX_TOTAL_OUTPUT_BYTES;
  if (!Number.isSafeInteger(maxTotalOutputBytes) || maxTotalOutputBytes < 1) {
    throw new OptionsError(`maxTotalOutputBytes must be an integer >= 1, got ${String(maxTotalOutputBytes)}`);
  }
  const rate = options.maxMessagesPerSecond ?? 0;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
    throw new OptionsError(`maxMessagesPerSecond must be a number >= 0 (0: off), got ${String(rate)}`);
  }
  const burst = options.messageBurst ?? Math.max(1, Math.ceil(rate));
  if (!Number.isSafeInteger(burst) || burst < 1) {
    throw new OptionsError(`messageBurst must be an integer >= 1, got ${String(burst)}`);
  }
  const perAddress = options.maxConnectionsPerAddress ?? 0;
  if (!Number.isSafeInteger(perAddress) || perAddress < 0) {
    throw new OptionsError(
      `maxConnectionsPerAddress must be an integer >= 0 (0: off), got ${String(perAddress)}`,
    );
  }
  return {
    maxTotalOutputBytes,
    rateLimit: rate > 0 ? { perSecond: rate, burst } : undefined,
    maxConnectionsPerAddress: perAddress > 0 ? perAddress : undefined,
  };
}

/** The spec's limits with the given overrides, each checked to be an integer at or above its minimum. */
export function resolveLimits(overrides: Partial<Limits> = {}): Readonly<Limits> {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(LIMIT_MINIMUMS) as (keyof Limits)[]) {
    const value = overrides[name];
    if (value === undefined) continue;
    const minimum = LIMIT_MINIMUMS[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
      throw new OptionsError(`${name} must be an integer >= ${minimum}, got ${String(value)}`);
    }
    limits[name] = value;
  }
  return Object.freeze(limits);
}

export function checkPort(port: unknown, what = 'port'): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new OptionsError(`${what} must be an integer from 0 to 65535, got ${String(port)}`);
  }
  return port;
}

export function checkHost(host: unknown): string {
  if (typeof host !== 'string' || host.trim() === '') {
    throw new OptionsError(`host must be a non-empty string, got ${JSON.stringify(host)}`);
  }
  return host;
}

export interface PasswordSources {
  /** `--password`: highest precedence (visible in `ps`; prefer the file or the environment). */
  password?: string | undefined;
  /** `--password-file`: the file's content, without one trailing newline. */
  passwordFile?: string | undefined;
  /** `ECP_PASSWORD`. */
  env?: string | undefined;
}

export interface ResolvedPassword {
  password: string;
  /** True when no source gave one and a random password was made; it must be shown to the operator once. */
  generated: boolean;
  source: 'option' | 'file' | 'env' | 'generated';
}

/** The password from the first source that gives one: `--password`, `--password-file`, `ECP_PASSWORD`; else a random one. */
export function resolvePassword(sources: PasswordSources): ResolvedPassword {
  if (sources.password !== undefined && sources.passwordFile !== undefined) {
    throw new OptionsError('give either --password or --password-file, not both');
  }
  if (sources.password !== undefined) {
    return { password: checkPassword(sources.password, '--password'), generated: false, source: 'option' };
  }
  if (sources.passwordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(sources.passwordFile, 'utf8');
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new OptionsError(`cannot read --password-file ${sources.passwordFile}: ${reason}`);
    }
    const password = text.replace(/\r?\n$/, '');
    return { password: checkPassword(password, '--password-file'), generated: false, source: 'file' };
  }
  if (sources.env !== undefined && sources.env !== '') {
    return { password: sources.env, generated: false, source: 'env' };
  }
  return { password: generatePassword(), generated: true, source: 'generated' };
}

/** 144 random bits as 24 URL-safe characters: easy to paste, impossible to guess. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

function checkPassword(password: string, what: string): string {
  if (password === '') throw new OptionsError(`${what} is empty`);
  return password;
}
