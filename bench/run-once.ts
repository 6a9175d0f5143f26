/**
 * One measured run: starts the load workers, lets them join, synchronises warm-up, window and
 * drain, watches the generator and the server, and merges what the workers counted.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { median } from 'simple-statistics';
import type { ConnectOptions, Endpoint } from '../transport/index.ts';
import { nowMicros } from './clock.ts';
import { lastRecipientLatency } from './delivery-ledger.ts';
import { endpointOfClient } from './endpoint-spread.ts';
import { encodeHistogram, mergeHistograms, summarizeMicros } from './histogram.ts';
import type { PooledKeyPair } from './key-pool.ts';
import { machineCoresBusy, machineCpuTicks } from './machine.ts';
import type { BenchConfig, RunResult } from './report-schema.ts';
import { findListeningPid, type ProcessSample, sampleProcess } from './server-process.ts';
import type { LoadWorkerPool } from './worker-pool.ts';
import type {
  CoordinatorMessage,
  JoinReport,
  WorkerMessage,
  WorkerResult,
  WorkerSetup,
} from './worker-protocol.ts';

export interface RunTarget {
  /** Every endpoint of the room: the clients are spread over them (endpoint-spread.ts). */
  endpoints: Endpoint[];
  /** How the load clients trust a TLS server. */
  connectOptions: ConnectOptions;
  password: string;
  /** The server runs inside this process (embedded). */
  embedded: boolean;
}

export type RunPhase = 'connecting' | 'warmup' | 'measuring' | 'draining';

export interface RunProgress {
  phase: RunPhase;
  /** 0..1 of the current phase. */
  fraction: number;
  /** Deliveries per second over the last progress interval. */
  deliveriesPerSecond: number;
  received: number;
  expected: number | undefined;
}

/** Thresholds past which the generator itself may have set the pace. */
const GENERATOR_ELU_LIMIT = 0.9;
const GENERATOR_LOOP_DELAY_LIMIT_MS = 50;
const GENERATOR_SEND_LAG_LIMIT_MS = 50;
const START_DELAY_MICROS = 200_000;
/** The drain ends early once no delivery has arrived for this long. */
const DRAIN_QUIET_MS = 1000;

export class BenchRunError extends Error {
  override readonly name = 'BenchRunError';
}

export async function runOnce(
  config: BenchConfig,
  target: RunTarget,
  keys: PooledKeyPair[],
  run: number,
  pool: LoadWorkerPool,
  onProgress: (progress: RunProgress) => void = () => {},
): Promise<RunResult> {
  const workerCount = pool.workers.length;
  // A fresh name prefix per run, so a server still dropping the last run's clients cannot refuse them.
  const prefix = randomBytes(2).toString('hex');
  const names = Array.from({ length: config.clients }, (_, i) => `${prefix}${i}`);
  const setups: WorkerSetup[] = Array.from({ length: workerCount }, (_, w) => ({
    workerIndex: w,
    endpoints: target.endpoints,
    connectOptions: target.connectOptions,
    password: target.password,
    clients: names
      .map((name, index) => ({ index, name, endpoint: endpointOfClient(index, target.endpoints.length) }))
      .filter(({ index }) => index % workerCount === w),
    senderNames: names.slice(0, config.senders),
    clientsTotal: config.clients,
    senders: config.senders,
    rate: config.rate,
    inFlight: config.inFlight,
    size: config.size,
    keyPairs: keys,
    connectConcurrency: Math.max(1, Math.ceil(config.connectConcurrency / workerCount)),
    joinTimeoutMs: 60_000,
    verify: config.verify,
    sampleEvery: config.sampleEvery,
  }));

  const serverPid = target.embedded ? process.pid : serverProcess(target.endpoints);
  let peakRss = 0;
  const sampleServer = (): ProcessSample | undefined => {
    const sample = serverPid === null ? undefined : sampleProcess(serverPid);
    if (sample) peakRss = Math.max(peakRss, sample.rssBytes);
    return sample;
  };
  const rssTimer = setInterval(sampleServer, 250);

  const workers = pool.workers;
  const inbox = new WorkerInbox(workers);
  for (const [w, worker] of workers.entries()) worker.postMessage({ type: 'setup', setup: setups[w]! });
  try {
    sampleServer();
    onProgress({
      phase: 'connecting',
      fraction: 0,
      deliveriesPerSecond: 0,
      received: 0,
      expected: undefined,
    });
    // Workers build their clients (and, in a bench's first run, load their code first): none starts
    // joining before all can, so the join phase is timed from one start.
    await inbox.collect('ready');
    inbox.broadcast({ type: 'join' });
    const joins = (await inbox.collect('joined')) as JoinReport[];
    const afterJoin = sampleServer();
    const firstStart = Math.min(...joins.map((j) => j.firstStartMicros));
    const lastJoined = Math.max(...joins.map((j) => j.lastJoinedMicros));
    const connectPhaseSeconds = Math.max(1e-6, (lastJoined - firstStart) / 1e6);

    // Whole microseconds, as payloads carry times (payload.ts): with no warm-up the first message is
    // due exactly at the window's start, and must not round to just before it.
    const startMicros = Math.round(nowMicros() + START_DELAY_MICROS);
    const windowStartMicros = startMicros + Math.round(config.warmupSeconds * 1e6);
    const windowEndMicros = windowStartMicros + Math.round(config.durationSeconds * 1e6);
    inbox.broadcast({ type: 'go', startMicros, windowStartMicros, windowEndMicros });

    // Generator and server CPU over exactly the window.
    let cpuAtStart = process.cpuUsage();
    let machineAtStart = machineCpuTicks();
    let serverAtStart: ProcessSample | undefined;
    let processCpuCores = 0;
    let machineCpuCores = 0;
    let serverCpuCores: number | null = null;
    await sleepUntil(windowStartMicros, (fraction) =>
      onProgress({ ...inbox.progress(), phase: 'warmup', fraction }),
    );
    cpuAtStart = process.cpuUsage();
    machineAtStart = machineCpuTicks();
    serverAtStart = sampleServer();
    await sleepUntil(windowEndMicros, (fraction) =>
      onProgress({ ...inbox.progress(), phase: 'measuring', fraction }),
    );
    const cpu = process.cpuUsage(cpuAtStart);
    processCpuCores = (cpu.user + cpu.system) / 1e6 / config.durationSeconds;
    machineCpuCores = machineCoresBusy(machineAtStart, machineCpuTicks(), availableParallelism());
    const serverAtEnd = sampleServer();
    if (serverAtStart && serverAtEnd) {
      serverCpuCores = (serverAtEnd.cpuSeconds - serverAtStart.cpuSeconds) / config.durationSeconds;
    }

    // Drain: wait for in-window messages still on their way.
    const published = (await inbox.collect('published')).flatMap((p) =>
      p.type === 'published' ? p.senders : [],
    );
    const publishedBySender = new Array<number>(config.senders).fill(0);
    const firstWindowSeq = new Array<number>(config.senders).fill(0);
    for (const p of published) {
      publishedBySender[p.sender] = p.published;
      firstWindowSeq[p.sender] = p.firstWindowSeq;
    }
    const totalPublished = publishedBySender.reduce((a, b) => a + b, 0);
    const expected = totalPublished * config.clients;
    const drainDeadline = Date.now() + config.drainSeconds * 1000;
    let lastReceived = -1;
    let lastChange = Date.now();
    while (Date.now() < drainDeadline) {
      const { received } = inbox.progress();
      if (received >= expected) break;
      if (received !== lastReceived) {
        lastReceived = received;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > DRAIN_QUIET_MS) {
        break;
      }
      const fraction = expected > 0 ? received / expected : 1;
      onProgress({ ...inbox.progress(), phase: 'draining', fraction, expected });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    inbox.broadcast({ type: 'finish' });
    const results = (await inbox.collect('result')) as WorkerResult[];
    return mergeRun({
      config,
      run,
      results,
      joins,
      connectPhaseSeconds,
      publishedBySender,
      firstWindowSeq,
      totalPublished,
      expected,
      processCpuCores,
      machineCpuCores,
      server: {
        pid: serverPid,
        sharedWithGenerator: target.embedded,
        cpuCores: serverCpuCores,
        rssAfterJoinBytes: afterJoin?.rssBytes ?? null,
        peakRssBytes: serverPid === null ? null : peakRss,
        machineCpuCores,
      },
    });
  } finally {
    clearInterval(rssTimer);
    inbox.detach();
  }
}

async function sleepUntil(micros: number, tick: (fraction: number) => void): Promise<void> {
  const begin = nowMicros();
  const span = Math.max(1, micros - begin);
  while (nowMicros() < micros) {
    tick(Math.min(1, (nowMicros() - begin) / span));
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(250, Math.max(1, (micros - nowMicros()) / 1000))),
    );
  }
  tick(1);
}

/** Routes worker messages: waits for one message of a type from every worker, keeps progress. */
class WorkerInbox {
  readonly #workers: Worker[];
  readonly #latest = new Map<number, { arrivals: number; received: number }>();
  readonly #waiting = new Map<string, { messages: Map<number, WorkerMessage>; done: () => void }>();
  readonly #early = new Map<string, Map<number, WorkerMessage>>();
  #failure: Error | undefined;
  #onFailure: ((error: Error) => void) | undefined;
  #rateWindow = { at: Date.now(), arrivals: 0, rate: 0 };

  readonly #detachers: Array<() => void> = [];

  constructor(workers: Worker[]) {
    this.#workers = workers;
    workers.forEach((worker, index) => {
      const onMessage = (message: WorkerMessage) => this.#receive(index, message);
      const onError = (error: Error) =>
        this.#fail(new BenchRunError(`load worker ${index} crashed: ${error.message}`));
      const onExit = (code: number) => {
        if (code !== 0) this.#fail(new BenchRunError(`load worker ${index} exited with code ${code}`));
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      this.#detachers.push(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
    });
  }

  /** Stops listening: the pool's workers serve the next run's inbox. */
  detach(): void {
    for (const detach of this.#detachers) detach();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#onFailure?.(error);
  }

  #receive(index: number, message: WorkerMessage): void {
    if (message.type === 'failed') {
      this.#fail(new BenchRunError(message.message));
      return;
    }
    if (message.type === 'progress') {
      this.#latest.set(index, { arrivals: message.arrivals, received: message.received });
      return;
    }
    const bucket = this.#early.get(message.type) ?? new Map<number, WorkerMessage>();
    bucket.set(index, message);
    this.#early.set(message.type, bucket);
    if (bucket.size === this.#workers.length) this.#waiting.get(message.type)?.done();
  }

  /** One message of `type` from every worker, in worker order. */
  collect(type: WorkerMessage['type']): Promise<WorkerMessage[]> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      const finish = () => {
        this.#waiting.delete(type);
        const bucket = this.#early.get(type) ?? new Map();
        resolve(this.#workers.map((_, i) => bucket.get(i) as WorkerMessage));
      };
      this.#onFailure = reject;
      if ((this.#early.get(type)?.size ?? 0) === this.#workers.length) return finish();
      this.#waiting.set(type, { messages: new Map(), done: finish });
    });
  }

  broadcast(message: CoordinatorMessage): void {
    for (const worker of this.#workers) worker.postMessage(message);
  }

  progress(): Omit<RunProgress, 'phase' | 'fraction'> {
    let arrivals = 0;
    let received = 0;
    for (const p of this.#latest.values()) {
      arrivals += p.arrivals;
      received += p.received;
    }
    const now = Date.now();
    if (now - this.#rateWindow.at >= 500) {
      this.#rateWindow = {
        at: now,
        arrivals,
        rate: ((arrivals - this.#rateWindow.arrivals) * 1000) / (now - this.#rateWindow.at),
      };
    }
    return { deliveriesPerSecond: this.#rateWindow.rate, received, expected: undefined };
  }
}

interface MergeInput {
  config: BenchConfig;
  run: number;
  results: WorkerResult[];
  joins: JoinReport[];
  connectPhaseSeconds: number;
  publishedBySender: number[];
  firstWindowSeq: number[];
  totalPublished: number;
  expected: number;
  processCpuCores: number;
  machineCpuCores: number;
  server: Omit<RunResult['server'], 'otherCpuCores'>;
}

function mergeRun(input: MergeInput): RunResult {
  const { config, results, joins } = input;
  const seconds = config.durationSeconds;
  const sum = (pick: (r: WorkerResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const latency = mergeHistograms(results.map((r) => r.latencyMicros));
  const sendLag = mergeHistograms(results.map((r) => r.sendLagMicros));
  const connect = mergeHistograms(joins.map((j) => j.connectMicros));
  const handshake = mergeHistograms(joins.map((j) => j.handshakeMicros));
  const last = lastRecipientLatency(
    results.map((r) => r.lastArrivals),
    config.senders,
    config.clients,
    input.publishedBySender,
    input.firstWindowSeq,
  );
  const received = sum((r) => r.totals.received);
  const windowArrivals = sum((r) => r.totals.windowArrivals);
  const windowEchoes = sum((r) => r.totals.windowEchoes);
  const perClient = results.flatMap((r) => r.perClientWindowArrivals).map((n) => n / seconds);
  const sendLagSummary = summarizeMicros(sendLag);
  const elu = results.map((r) => round(r.eventLoopUtilization, 3));
  const loopDelayP99 = Math.max(0, ...results.map((r) => r.eventLoopDelayP99Ms));
  const reasons: string[] = [];
  elu.forEach((u, i) => {
    if (u > GENERATOR_ELU_LIMIT)
      reasons.push(`load worker ${i} was busy ${Math.round(u * 100)}% of the window`);
  });
  if (loopDelayP99 > GENERATOR_LOOP_DELAY_LIMIT_MS) {
    reasons.push(`a load worker's event loop lagged ${loopDelayP99.toFixed(1)} ms at p99`);
  }
  if (config.rate > 0 && sendLagSummary.p99Ms > GENERATOR_SEND_LAG_LIMIT_MS) {
    reasons.push(`messages left ${sendLagSummary.p99Ms} ms after their scheduled time at p99`);
  }
  const processCpu = round(input.processCpuCores, 2);
  return {
    run: input.run,
    mode: config.rate > 0 ? 'open-loop' : 'closed-loop',
    windowSeconds: seconds,
    publishes: {
      published: input.totalPublished,
      publishesPerSecond: round(input.totalPublished / seconds, 1),
    },
    deliveries: {
      expected: input.expected,
      received,
      lost: Math.max(0, input.expected - received),
      duplicated: sum((r) => r.totals.duplicated),
      reordered: sum((r) => r.totals.reordered),
      deliveryRatio: input.expected > 0 ? round(received / input.expected, 6) : 1,
      deliveriesPerSecond: round(windowArrivals / seconds, 1),
      relayedPerSecond: round((windowArrivals - windowEchoes) / seconds, 1),
      goodputMBps: round((windowArrivals * config.size) / 1e6 / seconds, 3),
      wireMBps: round(sum((r) => r.windowBytes) / 1e6 / seconds, 3),
      unrecognised: sum((r) => r.totals.unrecognised),
      otherLines: sum((r) => r.otherLines),
    },
    latency: {
      perDelivery: summarizeMicros(latency),
      toLastRecipient: { ...summarizeMicros(last.histogram), incompleteMessages: last.incomplete },
    },
    fairness: {
      clientDeliveriesPerSecond:
        perClient.length === 0
          ? { min: 0, median: 0, max: 0 }
          : {
              min: round(Math.min(...perClient), 1),
              median: round(median(perClient), 1),
              max: round(Math.max(...perClient), 1),
            },
    },
    connect: {
      clients: config.clients,
      handshakesPerSecond: round(config.clients / input.connectPhaseSeconds, 1),
      connectPhaseSeconds: round(input.connectPhaseSeconds, 3),
      connectMs: summarizeMicros(connect),
      handshakeMs: summarizeMicros(handshake),
      keysUnwrapped: joins.reduce((n, j) => n + j.keysUnwrapped, 0),
      keysAgree: joins.every((j) => j.keysAgree),
    },
    integrity: {
      verified: sum((r) => r.verified),
      failures: sum((r) => r.verifyFailures),
      failureSamples: results.flatMap((r) => r.verifyFailureSamples).slice(0, 10),
    },
    clientsDisconnected: sum((r) => r.disconnected),
    generator: {
      workers: results.length,
      eventLoopUtilization: elu,
      eventLoopDelayP99Ms: round(loopDelayP99, 2),
      eventLoopDelayMaxMs: round(Math.max(0, ...results.map((r) => r.eventLoopDelayMaxMs)), 2),
      sendLag: sendLagSummary,
      maxSendBacklogBytes: Math.max(0, ...results.map((r) => r.maxSendBacklogBytes)),
      processCpuCores: processCpu,
      bound: reasons.length > 0,
      reasons,
    },
    server: {
      ...input.server,
      cpuCores: input.server.cpuCores === null ? null : round(input.server.cpuCores, 2),
      otherCpuCores: otherCpuCores(input),
    },
    histograms: {
      perDeliveryMicros: encodeHistogram(latency),
      toLastRecipientMicros: encodeHistogram(last.histogram),
      connectMicros: encodeHistogram(connect),
      handshakeMicros: encodeHistogram(handshake),
      sendLagMicros: encodeHistogram(sendLag),
    },
  };
}

/** What the machine did besides the bench and the server (whose CPU the bench's includes when embedded). */
function otherCpuCores(input: MergeInput): number | null {
  const { server, machineCpuCores, processCpuCores } = input;
  if (server.sharedWithGenerator) return round(Math.max(0, machineCpuCores - processCpuCores), 2);
  if (server.cpuCores === null) return null;
  return round(Math.max(0, machineCpuCores - processCpuCores - server.cpuCores), 2);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * The process serving every endpoint, found on this machine by its listening ports; null when
 * there is none, or several (nodes of a cluster): one process's CPU would not be the room's.
 */
function serverProcess(endpoints: readonly Endpoint[]): number | null {
  const pids = new Set(endpoints.map((endpoint) => findListeningPid(endpoint.port)));
  const [pid] = pids;
  return pids.size === 1 && pid !== undefined ? pid : null;
}
