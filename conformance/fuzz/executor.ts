/**
 * Runs a history against a server and records the trace. Steps with no pause before them are
 * issued in the same tick (their connections are opened first, together), so their lines reach
 * the server as close together as the network allows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeMessage, type RsaKeyPair } from '../../protocol/index.ts';
import { type Connection, type ConnectOptions, connect, type Endpoint } from '../../transport/index.ts';
import { BAD_INPUTS, type History, type Step } from './history.ts';
import type { ConnectionTrace, Trace } from './trace.ts';

export interface ExecutionTarget {
  endpoint: Endpoint;
  connectOptions: ConnectOptions;
  password: string;
  /** The RSA keys clients present, round robin. */
  nextKey: () => RsaKeyPair;
}

export interface ExecutionOptions {
  /** Appended to every name and payload of the run. */
  tag: string;
  /** The room counts as quiet after this long without a line to anyone. */
  quietMs?: number;
  /** The longest wait for quiet after the last step. */
  settleLimitMs?: number;
}

const DEFAULT_QUIET_MS = 250;
const DEFAULT_SETTLE_LIMIT_MS = 5000;
/** Turns of the event loop, each a timer and a round of I/O, that must pass without a line. */
const QUIET_TURNS = 5;

interface Live {
  trace: ConnectionTrace;
  connection: Connection;
}

export async function executeHistory(
  history: History,
  target: ExecutionTarget,
  options: ExecutionOptions,
): Promise<Trace> {
  const start = performance.now();
  const now = () => performance.now() - start;
  const connections: ConnectionTrace[] = [];
  const open = new Map<number, Live>();
  const all: Connection[] = [];
  let lastLineAt = 0;
  let stallsEndAt = 0;
  let chatCount = 0;

  const opened = async (client: number): Promise<void> => {
    const connection = await connect(target.endpoint, { ...target.connectOptions, timeoutMs: 5000 });
    all.push(connection);
    const trace: ConnectionTrace = {
      id: connections.length + 1,
      client,
      handshakes: [],
      chats: [],
      received: [],
      closedByClientAt: undefined,
      closedAt: undefined,
    };
    connections.push(trace);
    connection.on('message', (line) => {
      lastLineAt = now();
      trace.received.push({ at: lastLineAt, line, message: objectOf(line) });
    });
    connection.on('close', () => {
      trace.closedAt ??= now();
      if (open.get(client)?.trace === trace) open.delete(client);
    });
    open.set(client, { trace, connection });
  };

  const issue = (step: Step): void => {
    const live = open.get(step.client);
    if (!live) return;
    const { trace, connection } = live;
    const send = (line: string) => connection.send(`${line}\n`);
    switch (step.action.kind) {
      case 'join': {
        const name = `${step.action.name}${options.tag}`;
        trace.handshakes.push({ name, at: now() });
        send(
          encodeMessage({
            type: 'handshake',
            username: name,
            server_password: target.password,
            public_key: target.nextKey().publicKeyPem,
          }),
        );
        return;
      }
      case 'chat': {
        chatCount += 1;
        const seq = trace.chats.length + 1;
        const payload = Buffer.from(`fuzz${options.tag} c${trace.id} #${seq} (${chatCount})`).toString(
          'base64',
        );
        trace.chats.push({ payload, seq, at: now() });
        send(encodeMessage({ type: 'message', message: payload, encrypted: true }));
        return;
      }
      case 'leave':
      case 'abort':
        trace.closedByClientAt = now();
        open.delete(step.client);
        if (step.action.kind === 'leave') connection.end();
        else connection.destroy();
        return;
      case 'bad':
        send(BAD_INPUTS[step.action.input]);
        return;
      case 'stall': {
        connection.pause();
        stallsEndAt = Math.max(stallsEndAt, now() + step.action.ms);
        setTimeout(() => connection.resume(), step.action.ms).unref();
        return;
      }
    }
  };

  try {
    let index = 0;
    while (index < history.length) {
      const pause = history[index]!.pauseMs;
      if (pause > 0) await sleep(pause);
      // The batch: this step and every following step that has no pause before it.
      let end = index + 1;
      while (end < history.length && history[end]!.pauseMs === 0) end++;
      const batch = history.slice(index, end);
      const toOpen = new Set(
        batch.filter((step) => step.action.kind === 'join' && !open.has(step.client)).map((s) => s.client),
      );
      await Promise.all([...toOpen].map((client) => opened(client)));
      for (const step of batch) issue(step);
      index = end;
    }
    const settleBy = now() + (options.settleLimitMs ?? DEFAULT_SETTLE_LIMIT_MS);
    const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
    let quiet = false;
    let quietTurns = 0;
    let seenLineAt = lastLineAt;
    while (now() < settleBy) {
      await sleep(quietMs / QUIET_TURNS);
      quietTurns = lastLineAt === seenLineAt ? quietTurns + 1 : 0;
      seenLineAt = lastLineAt;
      // Quiet counts from the end of the last stall: what a paused reader holds arrives only then.
      // Time alone is not enough: on a starved machine the timer can fire before the lines that
      // waited meanwhile are read, so it takes QUIET_TURNS turns of the event loop without a line too.
      if (quietTurns >= QUIET_TURNS && now() - Math.max(stallsEndAt, lastLineAt) >= quietMs) {
        quiet = true;
        break;
      }
    }
    // The trace is judged as it stands now; later lines (the leaves of the closing below) are not part of it.
    return { tag: options.tag, connections: connections.map(snapshot), quiet };
  } finally {
    for (const connection of all) connection.destroy();
  }
}

function snapshot(trace: ConnectionTrace): ConnectionTrace {
  return {
    ...trace,
    handshakes: [...trace.handshakes],
    chats: [...trace.chats],
    received: [...trace.received],
  };
}

function objectOf(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
