/**
 * A throwaway Redis for tests: `redis-server` on a free port of 127.0.0.1, no persistence, in a
 * temporary directory; stopped (and the directory removed) by `stop()`. Tests that need it skip,
 * saying why, where redis-server is not installed (`.ci/run` installs it).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../transport/index.ts';

/** Why Redis tests cannot run here, or undefined when they can. */
export function redisMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0
    ? undefined
    : 'redis-server is not installed (apt-get install redis-server)';
}

export class RedisServer {
  #process: ChildProcess | undefined;
  readonly #dir = mkdtempSync(join(tmpdir(), 'ecp-redis-'));

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts one on a free port and resolves once it accepts connections. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await findFreePort());
    await server.#spawn();
    return server;
  }

  /**
   * Stops it the hard way (SIGKILL) and starts it again on the same port. With `keepData`, it
   * first writes its data to disk (SHUTDOWN SAVE, as a Redis with persistence would) and reloads
   * it; without, it comes back empty, as a Redis without persistence does. `whileDown` runs
   * between the two.
   */
  async restart(options: { keepData: boolean; whileDown?: () => Promise<void> }): Promise<void> {
    if (options.keepData) await this.#command('SHUTDOWN SAVE');
    await this.#kill();
    await options.whileDown?.();
    if (!options.keepData) rmSync(join(this.#dir, 'dump.rdb'), { force: true });
    await this.#spawn();
  }

  /** The server's process id, to read its CPU time from /proc. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  async stop(): Promise<void> {
    await this.#kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #spawn(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.#dir,
        '--logfile',
        '',
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    this.#process = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
    });
    exited.catch(() => undefined);
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await Promise.race([this.#ping(), exited])) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.#kill();
    throw new Error(`redis-server did not answer on port ${this.port}`);
  }

  async #kill(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  #ping(): Promise<boolean> {
    return this.#command('PING').then(
      (reply) => reply.startsWith('+PONG'),
      () => false,
    );
  }

  /** One inline command; resolves with the first reply line (or '' when the server closes first). */
  #command(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: this.port });
      let reply = '';
      socket.setEncoding('latin1');
      socket.on('connect', () => socket.write(`${command}\r\n`));
      socket.on('data', (chunk: string) => {
        reply += chunk;
        if (reply.includes('\r\n')) {
          socket.destroy();
          resolve(reply);
        }
      });
      socket.on('close', () => resolve(reply));
      socket.on('error', reject);
    });
  }
}
