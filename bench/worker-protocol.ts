/**
 * What the coordinator (main thread) and the load workers say to each other. Times are
 * microseconds on the shared monotonic clock (clock.ts).
 */
import type { ConnectOptions, Endpoint } from '../transport/index.ts';
import type { LastArrivalTable, LedgerTotals } from './delivery-ledger.ts';

export interface WorkerSetup {
  workerIndex: number;
  /** Every endpoint of the room; each client connects to the one its `endpoint` indexes. */
  endpoints: Endpoint[];
  /** How to trust a TLS server (a CA as PEM text travels to the worker as it is). */
  connectOptions: ConnectOptions;
  password: string;
  /** This worker's clients; a client whose index is below `senders` is also sender number `index`. */
  clients: Array<{ index: number; name: string; endpoint: number }>;
  /** Every sender's name, by sender index (to check `sender` on verified deliveries). */
  senderNames: string[];
  clientsTotal: number;
  senders: number;
  /** Messages per second in total; 0 for closed loop. */
  rate: number;
  /** Closed loop: messages a sender may have awaiting its own echo. */
  inFlight: number;
  size: number;
  keyPairs: Array<{ publicKeyPem: string; privateKeyPem: string }>;
  connectConcurrency: number;
  joinTimeoutMs: number;
  /** Fully decrypt and check every delivery (otherwise one in `sampleEvery`). */
  verify: boolean;
  sampleEvery: number;
}

export type CoordinatorMessage =
  /** A new run: build its clients, then say `ready`. */
  | { type: 'setup'; setup: WorkerSetup }
  /** Every worker is ready: start joining now (together, so the join phase is timed fairly). */
  | { type: 'join' }
  | { type: 'go'; startMicros: number; windowStartMicros: number; windowEndMicros: number }
  | { type: 'finish' };

export interface JoinReport {
  type: 'joined';
  connectMicros: string;
  handshakeMicros: string;
  firstStartMicros: number;
  lastJoinedMicros: number;
  keysUnwrapped: number;
  /** All unwrapped keys were the same key (one room key per server, as v1 says). */
  keysAgree: boolean;
}

export interface ProgressReport {
  type: 'progress';
  /** Bench deliveries received so far, warm-up and drain included (for the live rate). */
  arrivals: number;
  received: number;
  published: number;
}

export interface PublishedReport {
  type: 'published';
  /** Per local sender: its index, first sequence number in the window, messages sent in the window. */
  senders: Array<{ sender: number; firstWindowSeq: number; published: number }>;
}

export interface WorkerResult {
  type: 'result';
  workerIndex: number;
  latencyMicros: string;
  sendLagMicros: string;
  totals: LedgerTotals;
  perClientWindowArrivals: number[];
  lastArrivals: LastArrivalTable;
  windowBytes: number;
  eventLoopUtilization: number;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  verified: number;
  verifyFailures: number;
  verifyFailureSamples: string[];
  disconnected: number;
  otherLines: number;
  maxSendBacklogBytes: number;
}

export type WorkerMessage =
  /** Clients built: waiting for `join`. */
  | { type: 'ready' }
  | JoinReport
  | ProgressReport
  | PublishedReport
  | WorkerResult
  | { type: 'failed'; message: string };
