/**
 * The JSON a bench writes (`--json`), schema `ecp-bench/1`, documented in docs/benchmarks.md.
 * Additions keep the schema name; a change of meaning or a removal makes it `ecp-bench/2`.
 * Rates are per second of the measurement window; latencies in milliseconds; encoded histograms
 * are hdr-histogram-js compressed base64 of MICROSECONDS.
 */
import type { LatencySummary } from './histogram.ts';
import type { MachineInfo } from './machine.ts';

export const SCHEMA = 'ecp-bench/1';

export interface BenchConfig {
  clients: number;
  senders: number;
  /** Messages per second in total (open loop), 0 for closed loop. */
  rate: number;
  /** Closed loop: messages each sender may have awaiting its own echo. */
  inFlight: number;
  /** Plaintext bytes per message. */
  size: number;
  durationSeconds: number;
  warmupSeconds: number;
  runs: number;
  workers: number;
  verify: boolean;
  sampleEvery: number;
  connectConcurrency: number;
  keyPoolSize: number;
  drainSeconds: number;
}

export interface RunResult {
  run: number;
  mode: 'open-loop' | 'closed-loop';
  windowSeconds: number;
  publishes: {
    /** Messages scheduled in the window (and sent). */
    published: number;
    publishesPerSecond: number;
  };
  deliveries: {
    /** published x clients: every client, the sender included, should get every message once. */
    expected: number;
    /** Distinct (message, recipient) pairs that arrived, by the end of the drain. */
    received: number;
    /** expected - received. */
    lost: number;
    duplicated: number;
    reordered: number;
    /** received / expected. */
    deliveryRatio: number;
    /** Chat lines received within the window, all clients, echoes included. */
    deliveriesPerSecond: number;
    /** The same without the senders' own echoes. */
    relayedPerSecond: number;
    /** Plaintext megabytes (10^6) delivered per second. */
    goodputMBps: number;
    /** Bytes of delivered chat lines per second, as they crossed the wire. */
    wireMBps: number;
    unrecognised: number;
    /** Non-chat lines received after joining (user lists, notices). */
    otherLines: number;
  };
  latency: {
    /** Receive time minus SCHEDULED send time, every first arrival of an in-window message. */
    perDelivery: LatencySummary;
    /** Per in-window message: the latest arrival among all clients minus its scheduled time. */
    toLastRecipient: LatencySummary & { incompleteMessages: number };
  };
  fairness: {
    /** Per client, deliveries received per second within the window. */
    clientDeliveriesPerSecond: { min: number; median: number; max: number };
  };
  connect: {
    clients: number;
    /** Clients joined per second: clients / (last join complete - first connect started). */
    handshakesPerSecond: number;
    connectPhaseSeconds: number;
    /** TCP connect. */
    connectMs: LatencySummary;
    /** Handshake sent to user_list received (welcome, key_exchange and secured in between). */
    handshakeMs: LatencySummary;
    keysUnwrapped: number;
    /** Every unwrapped room key was the same key. */
    keysAgree: boolean;
  };
  integrity: {
    /** Deliveries fully parsed, decrypted and compared with what was sent. */
    verified: number;
    failures: number;
    failureSamples: string[];
  };
  clientsDisconnected: number;
  generator: {
    workers: number;
    /** Per worker thread, event-loop utilisation over the window (1 = never idle). */
    eventLoopUtilization: number[];
    /** Worst worker's event-loop delay over the window. */
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
    /** How late the generator sent messages relative to their schedule. */
    sendLag: LatencySummary;
    maxSendBacklogBytes: number;
    /** CPU of the bench process (all threads; the server too when embedded), in cores. */
    processCpuCores: number;
    /** True when the generator, not the server, may have set the pace: figures are then lower bounds. */
    bound: boolean;
    reasons: string[];
  };
  server: {
    pid: number | null;
    /** Embedded: the server shares the bench's process, so its CPU and memory include the bench's. */
    sharedWithGenerator: boolean;
    cpuCores: number | null;
    rssAfterJoinBytes: number | null;
    peakRssBytes: number | null;
    /** All cores of the machine, busy over the window, in cores. */
    machineCpuCores: number;
    /**
     * Cores busy over the window with anything but the bench's process and the server's: other
     * programs, and kernel work charged to neither (about 0.2 in quiet runs on the bench machine).
     * Null when the server's own CPU is unknown. Above OTHER_LOAD_WARNING_CORES the report warns
     * that the machine was not quiet. (Added in ecp-bench/1 with tool 1.1.0.)
     */
    otherCpuCores: number | null;
  };
  histograms: {
    perDeliveryMicros: string;
    toLastRecipientMicros: string;
    connectMicros: string;
    handshakeMicros: string;
    sendLagMicros: string;
  };
}

/** Above this, other work on the machine may have slowed the run (see `server.otherCpuCores`). */
export const OTHER_LOAD_WARNING_CORES = 0.5;

export interface FigureSummary {
  median: number;
  min: number;
  max: number;
  values: number[];
}

/**
 * The figures summarised over runs and compared by `ecp bench compare`, in the order reports show
 * them: how people read each one, with how many decimals, and which way is better.
 */
export const HEADLINE_FIGURES = {
  deliveriesPerSecond: { label: 'deliveries/s', digits: 0, better: 'higher' },
  publishesPerSecond: { label: 'publishes/s', digits: 0, better: 'higher' },
  goodputMBps: { label: 'goodput MB/s', digits: 2, better: 'higher' },
  deliveryRatio: { label: 'delivery ratio', digits: 6, better: 'higher' },
  lost: { label: 'lost', digits: 0, better: 'lower' },
  duplicated: { label: 'duplicated', digits: 0, better: 'lower' },
  reordered: { label: 'reordered', digits: 0, better: 'lower' },
  latencyP50Ms: { label: 'latency p50 ms', digits: 2, better: 'lower' },
  latencyP99Ms: { label: 'latency p99 ms', digits: 2, better: 'lower' },
  latencyP999Ms: { label: 'latency p99.9 ms', digits: 2, better: 'lower' },
  latencyMaxMs: { label: 'latency max ms', digits: 2, better: 'lower' },
  lastRecipientP99Ms: { label: 'last recipient p99 ms', digits: 2, better: 'lower' },
  handshakesPerSecond: { label: 'handshakes/s', digits: 0, better: 'higher' },
  serverCpuCores: { label: 'server CPU cores', digits: 2, better: 'lower' },
  serverPeakRssMB: { label: 'server peak RSS MB', digits: 1, better: 'lower' },
} as const;

export type HeadlineFigure = keyof typeof HEADLINE_FIGURES;

export function headlineFigures(run: RunResult): Record<HeadlineFigure, number> {
  return {
    deliveriesPerSecond: run.deliveries.deliveriesPerSecond,
    publishesPerSecond: run.publishes.publishesPerSecond,
    goodputMBps: run.deliveries.goodputMBps,
    deliveryRatio: run.deliveries.deliveryRatio,
    lost: run.deliveries.lost,
    duplicated: run.deliveries.duplicated,
    reordered: run.deliveries.reordered,
    latencyP50Ms: run.latency.perDelivery.p50Ms,
    latencyP99Ms: run.latency.perDelivery.p99Ms,
    latencyP999Ms: run.latency.perDelivery.p999Ms,
    latencyMaxMs: run.latency.perDelivery.maxMs,
    lastRecipientP99Ms: run.latency.toLastRecipient.p99Ms,
    handshakesPerSecond: run.connect.handshakesPerSecond,
    serverCpuCores: run.server.cpuCores ?? Number.NaN,
    serverPeakRssMB: run.server.peakRssBytes === null ? Number.NaN : run.server.peakRssBytes / 1e6,
  };
}

export interface BenchReport {
  schema: typeof SCHEMA;
  kind: 'single';
  tool: { name: 'ecp bench'; version: string };
  createdAt: string;
  label: string | null;
  machine: MachineInfo;
  /**
   * `transport` (tcp, tls, ws, wss: the first endpoint's) since tool 1.2.0; `endpoints` since tool
   * 1.3.0, only for a room at several endpoints: each endpoint and how many clients connected to it.
   */
  target: {
    kind: string;
    description: string;
    transport?: string;
    endpoints?: Array<{ url: string; clients: number }>;
  };
  config: BenchConfig;
  runs: RunResult[];
  /** Median and spread (min, max) of each headline figure over the runs. */
  summary: Record<HeadlineFigure, FigureSummary>;
}

export interface SweepReport {
  schema: typeof SCHEMA;
  kind: 'sweep';
  tool: { name: 'ecp bench'; version: string };
  createdAt: string;
  label: string | null;
  machine: MachineInfo;
  /**
   * `transport` (tcp, tls, ws, wss: the first endpoint's) since tool 1.2.0; `endpoints` since tool
   * 1.3.0, only for a room at several endpoints: each endpoint and how many clients connected to it.
   */
  target: {
    kind: string;
    description: string;
    transport?: string;
    endpoints?: Array<{ url: string; clients: number }>;
  };
  /** The configuration field swept, e.g. `clients`. */
  parameter: SweepParameter;
  points: Array<{ value: number; report: BenchReport }>;
}

export type SweepParameter = 'clients' | 'senders' | 'rate' | 'size';
