/**
 * `--limits name=value,...`: the limits a target declares, so robustness scenarios send exactly
 * limit+1 bytes and wait exactly the declared timeout plus a margin instead of the defaults.
 */
import { DEFAULT_LIMITS, type Limits } from '../protocol/index.ts';

const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

/** Parses `handshakeTimeoutMs=1000,maxLineBytes=65536`. Throws a RangeError people can read. */
export function parseLimitsOption(text: string): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const part of text.split(',').map((item) => item.trim())) {
    if (!part) continue;
    const [name, value, ...rest] = part.split('=').map((item) => item.trim());
    if (!LIMIT_NAMES.includes(name as keyof Limits)) {
      throw new RangeError(`unknown limit '${name}' in --limits; known: ${LIMIT_NAMES.join(', ')}`);
    }
    const number = Number(value);
    if (rest.length > 0 || value === undefined || value === '' || !Number.isInteger(number) || number <= 0) {
      throw new RangeError(`--limits ${name} needs a positive whole number, got '${part}'`);
    }
    limits[name as keyof Limits] = number;
  }
  return limits;
}

export function formatLimits(limits: Partial<Limits>): string {
  return Object.entries(limits)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
}

/**
 * The command-line flag of each limit, as every server under test takes it (docs/protocol.md
 * section 15) and the reference server names it.
 */
export const LIMIT_FLAGS: Readonly<Record<keyof Limits, string>> = {
  maxLineBytes: '--max-line-bytes',
  handshakeTimeoutMs: '--handshake-timeout-ms',
  maxPendingOutputBytes: '--max-pending-output-bytes',
  maxConnections: '--max-connections',
  maxUsernameLength: '--max-username-length',
  slowReaderTimeoutMs: '--slow-reader-timeout-ms',
};

/**
 * The limits a `--spawn` command gives its server with the contract's flags
 * (`--max-line-bytes 65536` or `--max-line-bytes=65536`): the server runs with them, so the kit
 * checks them. A flag with a value that is not a positive whole number is left out.
 */
export function limitsFromCommand(command: string): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const name of LIMIT_NAMES) {
    const match = new RegExp(`(?:^|\\s)${LIMIT_FLAGS[name]}(?:=|\\s+)(\\d+)(?=\\s|$)`).exec(command);
    const value = match ? Number(match[1]) : Number.NaN;
    if (Number.isSafeInteger(value) && value > 0) limits[name] = value;
  }
  return limits;
}
