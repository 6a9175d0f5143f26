/**
 * The load worker threads of one bench, kept across its runs: a thread loads and compiles the
 * generator once, and from the second run on its code is as warm as a long-running server's,
 * so the runs measure the server, not the generator's start-up.
 */
import { Worker } from 'node:worker_threads';

/**
 * A worker thread does not inherit the main thread's tsx loader: from a clone (TypeScript sources)
 * it starts at worker-entry.js, which registers tsx first; compiled, at the plain-JS worker itself.
 */
const WORKER_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./worker-entry.js', import.meta.url)
  : new URL('./worker-main.js', import.meta.url);

export class LoadWorkerPool {
  readonly workers: Worker[];

  constructor(count: number) {
    this.workers = Array.from({ length: count }, () => new Worker(WORKER_ENTRY));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
