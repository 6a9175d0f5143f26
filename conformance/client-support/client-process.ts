/**
 * One run of the client under test: started through the shell in a process group of its own, fed
 * lines on its standard input, its standard output read line by line against the driver contract,
 * and stopped with its whole group. Whatever it does, memory stays bounded: a client that floods
 * its output is stopped and the fact is kept as its fault.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { OutputTail, stopProcessGroup } from '../../server-under-test/index.ts';
import { readShownLine, type ShownLine } from './driver-contract.ts';

/** More standard output than this in one scenario is a flood: the client is stopped. */
export const MAX_CLIENT_OUTPUT_BYTES = 16 * 1024 * 1024;
/** More stdout lines than this in one scenario is a flood too (no scenario shows more than a few). */
const MAX_SHOWN_LINES = 10_000;
/** A stdout line longer than this is a flood too (the kit's longest message is 1 MiB of text). */
const MAX_SHOWN_LINE_BYTES = 4 * 1024 * 1024;

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NumberedLine {
  /** 1-based line number on stdout. */
  number: number;
  shown: ShownLine;
}

export class ClientProcess {
  /** The command as reports show it (the password hidden). */
  readonly commandLine: string;
  /** Every stdout line, read against the contract, in order. */
  readonly lines: NumberedLine[] = [];
  readonly stdout = new OutputTail();
  readonly stderr = new OutputTail();
  /** Set when the client had to be stopped for what it did (a flood). */
  fault: string | undefined;
  exit: ProcessExit | undefined;
  /** Whether the kit had to stop it (it had not exited by itself). */
  stoppedByKit = false;
  readonly #shellCommand: string;
  readonly #wakers = new Set<() => void>();
  #child: ChildProcess | undefined;
  #partial = '';
  readonly #decoder = new StringDecoder('utf8');
  #outputBytes = 0;
  #stopping: Promise<void> | undefined;

  constructor(shellCommand: string, commandLine: string) {
    this.#shellCommand = shellCommand;
    this.commandLine = commandLine;
  }

  start(): void {
    const child = spawn(this.#shellCommand, {
      shell: true,
      // A group of its own, so stop() also ends what a wrapper script started.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    // A client that exits without reading its input must not crash the kit with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdout?.on('data', (chunk: Buffer) => this.#onStdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr.append(chunk);
      this.#count(chunk.length);
    });
    child.once('error', (error) => {
      this.fault = `could not be started: ${error.message}`;
      this.exit ??= { code: null, signal: null };
      this.#wake();
    });
    child.once('exit', (code, signal) => {
      this.exit = { code, signal };
      this.#wake();
    });
  }

  /** Writes one line on the client's standard input (rule C1). */
  writeLine(text: string): void {
    const stdin = this.#child?.stdin;
    if (stdin && !stdin.destroyed && !stdin.writableEnded) stdin.write(`${text}\n`);
  }

  /** Closes the client's standard input (rule C6). */
  endInput(): void {
    this.#child?.stdin?.end();
  }

  /** Wakes waiters on every change (a stdout line, the exit, a fault); returns how to stop. */
  onChange(wake: () => void): () => void {
    this.#wakers.add(wake);
    return () => this.#wakers.delete(wake);
  }

  /** Stops the whole process group (SIGTERM, then SIGKILL); safe to call more than once. */
  stop(): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined) return Promise.resolve();
    if (this.exit === undefined) this.stoppedByKit = true;
    this.#stopping ??= stopProcessGroup(pid, 1000);
    return this.#stopping;
  }

  #onStdout(chunk: Buffer): void {
    this.stdout.append(chunk);
    if (!this.#count(chunk.length)) return;
    const text = this.#partial + this.#decoder.write(chunk);
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    if (this.#partial.length > MAX_SHOWN_LINE_BYTES) {
      this.stopFor(
        `flooded: it wrote a stdout line of more than ${MAX_SHOWN_LINE_BYTES} bytes, and was stopped`,
      );
      return;
    }
    if (this.lines.length + parts.length > MAX_SHOWN_LINES) {
      this.stopFor(`flooded: it wrote more than ${MAX_SHOWN_LINES} lines on stdout, and was stopped`);
      return;
    }
    for (const line of parts) {
      const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
      this.lines.push({ number: this.lines.length + 1, shown: readShownLine(clean) });
    }
    if (parts.length > 0) this.#wake();
  }

  /** Counts output; false (and the client stopped) once it is a flood. */
  #count(bytes: number): boolean {
    this.#outputBytes += bytes;
    if (this.#outputBytes <= MAX_CLIENT_OUTPUT_BYTES) return true;
    this.stopFor(
      `flooded: it wrote more than ${MAX_CLIENT_OUTPUT_BYTES / 1024 / 1024} MiB of output, and was stopped`,
    );
    return false;
  }

  /** Stops the client for what it did; `why` is its fault in the report. */
  stopFor(why: string): void {
    if (this.fault !== undefined) return;
    this.fault = why;
    void this.stop();
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
  }
}
