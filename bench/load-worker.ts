/**
 * The load of one worker thread: its share of the clients (joined with bounded concurrency), the
 * senders among them (paced open loop, or closed loop with a bounded number in flight), and the
 * accounting of everything they receive.
 */
import { createPrivateKey } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Fernet, openText, parseServerMessage } from '../protocol/index.ts';
import { BenchClient, type ClientReceiver } from './bench-client.ts';
import { nowMicros } from './clock.ts';
import { DeliveryLedger, inWindow } from './delivery-ledger.ts';
import { encodeAndFree, type Histogram, newHistogram } from './histogram.ts';
import { carriedMicros, type PayloadFields, payloadLength, plaintextFor, sealPayload } from './payload.ts';
import { dueCount, nextDueAt, type Schedule, scheduledAt } from './schedule.ts';
import type { CoordinatorMessage, WorkerMessage, WorkerResult, WorkerSetup } from './worker-protocol.ts';

type Post = (message: WorkerMessage, transfer?: ArrayBuffer[]) => void;
type GoMessage = Extract<CoordinatorMessage, { type: 'go' }>;

/** Clients that unwrap the room key themselves (RSA-OAEP decryption costs about a millisecond). */
const KEY_UNWRAPPERS_PER_WORKER = 2;
/** A late open-loop sender catches up in slices of this many messages, so receiving is not starved. */
const MAX_BATCH = 500;
const PROGRESS_INTERVAL_MS = 200;
const MAX_FAILURE_SAMPLES = 5;

interface LocalSender {
  index: number;
  client: BenchClient;
  sent: number;
  outstanding: number;
  firstWindowSeq: number;
  published: number;
}

export class LoadWorker {
  readonly #setup: WorkerSetup;
  readonly #post: Post;
  readonly #clients: BenchClient[];
  readonly #senders: LocalSender[] = [];
  readonly #senderByClient = new Map<BenchClient, LocalSender>();
  #room: Fernet | undefined;
  #ledger: DeliveryLedger | undefined;
  #window = { startMicros: 0, endMicros: 0 };
  readonly #sendLag: Histogram = newHistogram();
  #timers: NodeJS.Timeout[] = [];
  #pacer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #sendingStopped = false;
  #deliveriesSeen = 0;
  #windowBytes = 0;
  #verified = 0;
  #verifyFailures = 0;
  readonly #failureSamples: string[] = [];
  #disconnected = 0;
  #maxBacklog = 0;
  #elu = 0;
  #loopDelayP99Ms = 0;
  #loopDelayMaxMs = 0;

  constructor(setup: WorkerSetup, post: Post) {
    this.#setup = setup;
    this.#post = post;
    const keys = setup.keyPairs.map((pair) => ({
      publicKeyPem: pair.publicKeyPem,
      privateKey: createPrivateKey(pair.privateKeyPem),
    }));
    const length = payloadLength(setup.size);
    this.#clients = setup.clients.map(({ index, name, endpoint }, localIndex) => {
      const key = keys[index % keys.length]!;
      const client = new BenchClient(
        {
          endpoint: setup.endpoints[endpoint]!,
          connectOptions: setup.connectOptions,
          password: setup.password,
          name,
          publicKeyPem: key.publicKeyPem,
          privateKey: key.privateKey,
          unwrapKey: setup.verify || localIndex < KEY_UNWRAPPERS_PER_WORKER,
          payloadLength: length,
        },
        localIndex,
        index,
      );
      if (index < setup.senders) {
        const sender: LocalSender = {
          index,
          client,
          sent: 0,
          outstanding: 0,
          firstWindowSeq: -1,
          published: 0,
        };
        this.#senders.push(sender);
        this.#senderByClient.set(client, sender);
      }
      return client;
    });
  }

  /** Joins every client, at most `connectConcurrency` at a time, and reports the times. */
  async joinAll(): Promise<void> {
    const connect = newHistogram();
    const handshake = newHistogram();
    let firstStart = Number.POSITIVE_INFINITY;
    let lastJoined = 0;
    let next = 0;
    const lane = async () => {
      while (next < this.#clients.length) {
        const client = this.#clients[next++]!;
        const times = await client.join(this.#setup.joinTimeoutMs);
        connect.recordValue(Math.max(0, Math.round(times.connectedMicros - times.startedMicros)));
        handshake.recordValue(Math.max(0, Math.round(times.joinedMicros - times.connectedMicros)));
        firstStart = Math.min(firstStart, times.startedMicros);
        lastJoined = Math.max(lastJoined, times.joinedMicros);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, this.#setup.connectConcurrency) }, lane));
    } catch (error) {
      this.#post({ type: 'failed', message: (error as Error).message });
      return;
    }
    const keys = new Set(this.#clients.map((c) => c.roomKey).filter((k): k is string => k !== undefined));
    const roomKey = [...keys][0];
    if (roomKey === undefined) {
      if (this.#clients.length > 0)
        this.#post({ type: 'failed', message: 'no client could decrypt the room key' });
    } else {
      this.#room = new Fernet(roomKey);
    }
    for (const client of this.#clients) client.receiveWith(this.#receiver);
    this.#post({
      type: 'joined',
      connectMicros: encodeAndFree(connect),
      handshakeMicros: encodeAndFree(handshake),
      firstStartMicros: firstStart,
      lastJoinedMicros: lastJoined,
      keysUnwrapped: this.#clients.filter((c) => c.roomKey !== undefined).length,
      keysAgree: keys.size <= 1,
    });
  }

  handle(message: CoordinatorMessage): void {
    if (message.type === 'join') void this.joinAll();
    else if (message.type === 'go') this.#go(message);
    else this.#finish();
  }

  #go(message: GoMessage): void {
    this.#window = { startMicros: message.windowStartMicros, endMicros: message.windowEndMicros };
    this.#ledger = new DeliveryLedger({
      recipients: this.#clients.length,
      senders: this.#setup.senders,
      window: this.#window,
    });
    const at = (micros: number, action: () => void) =>
      this.#timers.push(setTimeout(action, Math.max(0, (micros - nowMicros()) / 1000)));
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    let eluStart: ReturnType<typeof performance.eventLoopUtilization> | undefined;
    at(message.windowStartMicros, () => {
      eluStart = performance.eventLoopUtilization();
      loopDelay.enable();
    });
    at(message.windowEndMicros, () => {
      if (eluStart) this.#elu = performance.eventLoopUtilization(eluStart).utilization;
      loopDelay.disable();
      if (loopDelay.count > 0) {
        this.#loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
        this.#loopDelayMaxMs = loopDelay.max / 1e6;
      }
      if (this.#setup.rate === 0) this.#stopSending();
    });
    const progress = setInterval(() => this.#postProgress(), PROGRESS_INTERVAL_MS);
    this.#timers.push(progress);
    if (this.#senders.length === 0) {
      this.#stopSending();
    } else if (this.#setup.rate > 0) {
      const schedule: Schedule = {
        startMicros: message.startMicros,
        rate: this.#setup.rate,
        senders: this.#setup.senders,
        endMicros: message.windowEndMicros,
      };
      at(message.startMicros, () => this.#paceOpenLoop(schedule));
    } else {
      at(message.startMicros, () => {
        for (const sender of this.#senders) this.#refill(sender);
      });
    }
  }

  #postProgress(): void {
    const totals = this.#ledger?.totals;
    this.#post({
      type: 'progress',
      arrivals: this.#deliveriesSeen,
      received: totals?.received ?? 0,
      published: this.#senders.reduce((sum, s) => sum + s.sent, 0),
    });
  }

  /** Sends everything due for every local sender, then sleeps until the next message is due. */
  #paceOpenLoop(schedule: Schedule): void {
    const now = nowMicros();
    let next = Number.POSITIVE_INFINITY;
    let behind = false;
    for (const sender of this.#senders) {
      const due = Math.min(dueCount(schedule, sender.index, now), sender.sent + MAX_BATCH);
      if (due > sender.sent)
        this.#send(sender, due - sender.sent, now, (seq) => scheduledAt(schedule, sender.index, seq));
      const nextAt = nextDueAt(schedule, sender.index, sender.sent);
      if (nextAt !== undefined) {
        next = Math.min(next, nextAt);
        if (nextAt <= now) behind = true;
      }
    }
    if (next === Number.POSITIVE_INFINITY) {
      this.#pacer = undefined;
      this.#stopSending();
      return;
    }
    const waitMs = (next - nowMicros()) / 1000;
    this.#pacer =
      behind || waitMs <= 0
        ? setImmediate(() => this.#paceOpenLoop(schedule))
        : setTimeout(() => this.#paceOpenLoop(schedule), waitMs);
  }

  /** Closed loop: tops the sender up to `inFlight` messages awaiting their echo. */
  #refill(sender: LocalSender): void {
    if (this.#sendingStopped) return;
    const missing = this.#setup.inFlight - sender.outstanding;
    if (missing <= 0) return;
    const now = nowMicros();
    if (now >= this.#window.endMicros) return;
    sender.outstanding += missing;
    this.#send(sender, missing, now, () => now);
  }

  #send(sender: LocalSender, count: number, now: number, scheduled: (seq: number) => number): void {
    const room = this.#room;
    if (!room) return;
    const fields: PayloadFields = { sender: sender.index, seq: 0, scheduledMicros: 0 };
    const lines: string[] = [];
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const seq = sender.sent++;
      const at = carriedMicros(scheduled(seq));
      fields.seq = seq;
      fields.scheduledMicros = at;
      const line = `{"type":"message","message":"${sealPayload(room, fields, this.#setup.size)}","encrypted":true}\n`;
      lines.push(line);
      bytes += line.length;
      this.#sendLag.recordValue(Math.max(0, Math.round(now - at)));
      if (inWindow(this.#window, at)) {
        if (sender.firstWindowSeq < 0) sender.firstWindowSeq = seq;
        sender.published++;
      }
    }
    sender.client.writeLines(lines, bytes);
    const backlog = sender.client.pendingOutputBytes;
    if (backlog > this.#maxBacklog) this.#maxBacklog = backlog;
  }

  #stopSending(): void {
    if (this.#sendingStopped) return;
    this.#sendingStopped = true;
    this.#post({
      type: 'published',
      senders: this.#senders.map((s) => ({
        sender: s.index,
        firstWindowSeq: Math.max(0, s.firstWindowSeq),
        published: s.published,
      })),
    });
  }

  readonly #receiver: ClientReceiver = {
    delivery: (client, fields, receivedMicros, line, start, end) => {
      const ledger = this.#ledger;
      if (!ledger) return;
      const isEcho = fields.sender === client.globalIndex;
      ledger.record(
        client.localIndex,
        fields.sender,
        fields.seq,
        fields.scheduledMicros,
        receivedMicros,
        isEcho,
      );
      if (inWindow(this.#window, receivedMicros)) {
        this.#windowBytes += end - start + 1;
      }
      if (isEcho && this.#setup.rate === 0) {
        const sender = this.#senderByClient.get(client);
        if (sender && sender.outstanding > 0) sender.outstanding--;
      }
      this.#deliveriesSeen++;
      if (this.#setup.verify || this.#deliveriesSeen % this.#setup.sampleEvery === 0) {
        this.#verify(line.toString('utf8', start, end), fields);
      }
    },
    readDone: (client) => {
      if (this.#setup.rate !== 0) return;
      const sender = this.#senderByClient.get(client);
      if (sender && sender.outstanding < this.#setup.inFlight) this.#refill(sender);
    },
    closed: () => {
      this.#disconnected++;
    },
  };

  /** Full check of one delivery: JSON, sender name, encrypted flag, Fernet token and text. */
  #verify(line: string, fields: PayloadFields): void {
    this.#verified++;
    const why = this.#problemWith(line, fields);
    if (why === undefined) return;
    this.#verifyFailures++;
    if (this.#failureSamples.length < MAX_FAILURE_SAMPLES) {
      this.#failureSamples.push(`sender ${fields.sender} seq ${fields.seq}: ${why}`);
    }
  }

  #problemWith(line: string, fields: PayloadFields): string | undefined {
    const parsed = parseServerMessage(line);
    if (!parsed.ok) return `not a valid message: ${parsed.error.message}`;
    const message = parsed.message;
    if (message.type !== 'message') return `type '${message.type}'`;
    const expectedSender = this.#setup.senderNames[fields.sender];
    if (message.sender !== expectedSender) return `sender '${message.sender}', expected '${expectedSender}'`;
    if (message.encrypted !== true) return 'encrypted is not true';
    if (!this.#room) return 'no room key';
    let text: string;
    try {
      text = openText(this.#room, message.message);
    } catch (error) {
      return `cannot open the payload: ${(error as Error).message}`;
    }
    const expected = plaintextFor(fields.sender, fields.seq, this.#setup.size).toString('ascii');
    return text === expected ? undefined : 'the decrypted text differs from what was sent';
  }

  #finish(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    if (this.#pacer) {
      clearTimeout(this.#pacer as NodeJS.Timeout);
      clearImmediate(this.#pacer as NodeJS.Immediate);
    }
    const ledger = this.#ledger ?? new DeliveryLedger({ recipients: 0, senders: 0, window: this.#window });
    // Closing is not a disconnect worth reporting.
    const disconnected = this.#disconnected;
    for (const client of this.#clients) client.close();
    const lastArrivals = ledger.lastArrivals();
    const result: WorkerResult = {
      type: 'result',
      workerIndex: this.#setup.workerIndex,
      latencyMicros: encodeAndFree(ledger.latency),
      sendLagMicros: encodeAndFree(this.#sendLag),
      totals: ledger.totals,
      perClientWindowArrivals: Array.from(ledger.perRecipientWindowArrivals),
      lastArrivals,
      windowBytes: this.#windowBytes,
      eventLoopUtilization: this.#elu,
      eventLoopDelayP99Ms: this.#loopDelayP99Ms,
      eventLoopDelayMaxMs: this.#loopDelayMaxMs,
      verified: this.#verified,
      verifyFailures: this.#verifyFailures,
      verifyFailureSamples: this.#failureSamples,
      disconnected,
      otherLines: this.#clients.reduce((sum, c) => sum + c.otherLines, 0),
      maxSendBacklogBytes: this.#maxBacklog,
    };
    const transfer = [
      ...lastArrivals.counts,
      ...lastArrivals.latestMicros,
      ...lastArrivals.scheduledMicros,
    ].map((array) => array.buffer as ArrayBuffer);
    this.#post(result, transfer);
  }
}
