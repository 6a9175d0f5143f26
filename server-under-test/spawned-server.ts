import { type ChildProcess, spawn } from 'node:child_process';
import { type HostPort, waitUntilAccepting } from '../transport/index.ts';
import { stopWhenKitEnds } from './kit-exit.ts';
import { OutputTail } from './output-tail.ts';
import { groupAlive } from './process-group.ts';

export interface SpawnOptions {
  /** Shell command; every `{port}` is replaced by the port, every `{password}` by the password. */
  command: string;
  /** For `{password}`: passed as one shell word, and never shown in `commandLine`. */
  password?: string;
  host: string;
  port: number;
  /** How long the server may take to accept connections. */
  startTimeoutMs: number;
  /** Where its stdout and stderr go; a new tail of its own by default. */
  output?: OutputTail;
}

/** Raised when a spawned server does not start; carries its output for the report. */
export class TargetStartError extends Error {
  override readonly name = 'TargetStartError';
  readonly output: string;
  constructor(message: string, output: string) {
    super(message);
    this.output = output;
  }
}

const STOP_GRACE_MS = 2000;
/** After the process group is gone, how long its output pipes may take to reach end-of-file. */
const OUTPUT_CLOSE_WAIT_MS = 1000;
/** settleOutput() gives up on a server that keeps writing after this many turns of the event loop. */
const SETTLE_MAX_TURNS = 64;

interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One run of a server command: started, awaited until it accepts connections, stopped. */
export class SpawnedServer {
  readonly address: HostPort;
  readonly output: OutputTail;
  #child: ChildProcess | undefined;
  #exit: ProcessExit | undefined;
  /** Forgets this server in the kit's list of what to stop when it ends. */
  #forget: () => void = () => {};
  /** Resolves once the child's stdout and stderr have been read to their end. */
  #outputClosed: Promise<void> = Promise.resolve();
  readonly #options: SpawnOptions;

  constructor(options: SpawnOptions) {
    this.#options = options;
    this.output = options.output ?? new OutputTail();
    this.address = { host: options.host, port: options.port };
  }

  /** The command as people see it: the port filled in, `{password}` left as it is. */
  get commandLine(): string {
    return this.#options.command.replaceAll('{port}', String(this.#options.port));
  }

  get #shellCommand(): string {
    const { password } = this.#options;
    return password === undefined
      ? this.commandLine
      : this.commandLine.replaceAll('{password}', shellQuote(password));
  }

  async start(): Promise<void> {
    this.#exit = undefined;
    const outputStart = this.output.end;
    // Registered before the child exists. The child runs from the moment it is forked, and may
    // announce itself (a pid file, a line) while the kit has not yet been scheduled again: a signal
    // sent to the kit then must already find the handler that stops the child, or it would end the
    // kit by default and leave the server running.
    let pid: number | undefined;
    this.#forget = stopWhenKitEnds({
      stop: () => this.stop(),
      kill: () => {
        if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      },
    });
    // A process group of its own, so stop() also ends what a wrapper script started.
    const child = spawn(this.#shellCommand, {
      shell: true,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    pid = child.pid;
    // Not started at all (the 'exit' below says why): nothing to stop.
    if (pid === undefined) this.#forget();
    child.stdout?.on('data', (chunk: Buffer) => this.output.append(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.output.append(chunk));
    child.once('exit', (code, signal) => {
      this.#exit = { code, signal };
    });
    // 'close' comes after 'exit', once every pipe has hit end-of-file: only then is the output whole.
    this.#outputClosed = new Promise((resolve) => child.once('close', () => resolve()));
    const accepting = await waitUntilAccepting(
      this.address,
      this.#options.startTimeoutMs,
      () => !!this.#exit,
    );
    if (!accepting) {
      // Set by the 'exit' listener meanwhile; TypeScript cannot see that across the await.
      const exit = this.#exit as ProcessExit | undefined;
      const why = exit
        ? `exited (${exit.signal ?? `code ${exit.code}`}) before accepting connections`
        : `did not accept connections on ${this.address.host}:${this.address.port} within ${this.#options.startTimeoutMs} ms`;
      await this.stop();
      throw new TargetStartError(
        `server command '${this.commandLine}' ${why}`,
        this.output.between(outputStart, this.output.end),
      );
    }
  }

  /**
   * Reads what the server has already written to its pipes. Output is appended as the event loop
   * reads it, which can be well after the server wrote it; a reader that marks the output at some
   * moment (a scenario's end) must first let the loop poll the pipes. Two turns guarantee one poll
   * after the call; it goes on while they bring more, so a burst is read whole.
   */
  async settleOutput(): Promise<void> {
    for (let turn = 0; turn < SETTLE_MAX_TURNS; turn += 1) {
      const before = this.output.end;
      await nextTurn();
      await nextTurn();
      if (this.output.end === before) return;
    }
  }

  /** SIGTERM to the whole process group, SIGKILL to whatever is left of it after a grace period. */
  async stop(): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    await stopProcessGroup(pid);
    // The group is gone, so its pipes are at end-of-file; read what is still in them. Bounded, in
    // case a process that left the group (a daemon) still holds a pipe open.
    await Promise.race([this.#outputClosed, new Promise((r) => setTimeout(r, OUTPUT_CLOSE_WAIT_MS).unref())]);
    this.#child = undefined;
    this.#forget();
  }
}

/**
 * SIGTERM to the process group `pid` leads, SIGKILL to whatever is left of it after `graceMs`;
 * resolves once the whole group is gone.
 */
export async function stopProcessGroup(pid: number, graceMs = STOP_GRACE_MS): Promise<void> {
  signalGroup(pid, 'SIGTERM');
  // The shell may exit at once while what it started is still shutting down, so wait for the
  // whole group, not just the child.
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // Again on every poll: a process that was forking when the first SIGKILL came (a fork bomb)
  // may have left a child behind.
  while (groupAlive(pid)) {
    signalGroup(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One POSIX shell word: single quotes, each `'` inside closed, escaped and reopened. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
