/**
 * The load worker threads of one bench, kept across its runs: a thread loads and compiles the
 * generator once, and from the second run on its code is as warm as a long-running server's,
 * so the runs measure the server, not the generator's start-up.
 */
import { Worker } from 'node:worker_threads';

export class LoadWorkerPool {
  readonly workers: Worker[];

  constructor(count: number) {
    this.workers = Array.from(
      { length: count },
      () => new Worker(new URL('./worker-entry.js', import.meta.url)),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
