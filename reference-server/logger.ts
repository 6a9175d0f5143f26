import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

export type { Logger } from 'pino';
export type LogLevel = LevelWithSilent;

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Structured JSON logs on stderr (fd 2), so stdout stays free for the few lines meant for people.
 * Synchronous writes: log volume is bounded (one line per connection event, bad input rate-limited
 * per connection) and a shutdown that ends in process.exit must not lose its last lines.
 * An embedding program may pass another destination (the conformance kit keeps the log in memory).
 */
export function createLogger(
  level: LogLevel = 'info',
  destination: DestinationStream = pino.destination({ dest: 2, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { component: 'ecp-server' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: nothing we log carries these, but a future field must not leak them.
      redact: {
        paths: [
          'password',
          'server_password',
          '*.password',
          '*.server_password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
        ],
        remove: true,
      },
    },
    destination,
  );
}
