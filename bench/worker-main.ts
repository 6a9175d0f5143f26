/** Entry of a load worker thread (from a clone, through worker-entry.js, which registers tsx): one LoadWorker per run. */
import { parentPort } from 'node:worker_threads';
import { useWebAssemblyHistograms } from './histogram.ts';
import { LoadWorker } from './load-worker.ts';
import type { CoordinatorMessage } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('bench/worker-main.ts runs in a worker thread');
await useWebAssemblyHistograms();
let worker: LoadWorker | undefined;
port.on('message', (message: CoordinatorMessage) => {
  if (message.type !== 'setup') {
    worker?.handle(message);
    return;
  }
  worker = new LoadWorker(message.setup, (reply, transfer) => port.postMessage(reply, transfer));
  port.postMessage({ type: 'ready' });
});
