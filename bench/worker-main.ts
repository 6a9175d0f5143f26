/** Entry of a load worker thread (started through worker-entry.js, which registers tsx). */
import { parentPort, workerData } from 'node:worker_threads';
import { useWebAssemblyHistograms } from './histogram.ts';
import { LoadWorker } from './load-worker.ts';
import type { CoordinatorMessage, WorkerSetup } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('bench/worker-main.ts runs in a worker thread');
await useWebAssemblyHistograms();
const worker = new LoadWorker(workerData as WorkerSetup, (message, transfer) =>
  port.postMessage(message, transfer),
);
port.on('message', (message: CoordinatorMessage) => worker.handle(message));
port.postMessage({ type: 'ready' });
