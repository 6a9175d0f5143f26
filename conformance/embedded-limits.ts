/**
 * The embedded reference server runs with short limits, so the robustness scenarios take a
 * second rather than the defaults' ten (handshake timeout), five (slow-reader timeout) or 8 MiB
 * floods (pending output). The limit logic is the same at any value. A module of its own: the
 * command and the mutants (which run with the same limits) both need it, and neither may import
 * the other.
 */
import type { Limits } from '../protocol/index.ts';

export const EMBEDDED_LIMITS: Readonly<Partial<Limits>> = Object.freeze({
  handshakeTimeoutMs: 1000,
  maxLineBytes: 64 * 1024,
  maxPendingOutputBytes: 256 * 1024,
  slowReaderTimeoutMs: 1000,
  maxConnections: 100,
});
