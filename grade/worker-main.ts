/** A forked grading worker: one job in over IPC, events out, then exit. */
import { gradeSubmission, type WorkerJob } from './worker.ts';

const send = process.send?.bind(process);
if (!send) throw new Error('grade/worker-main.ts runs as a forked child of ecp grade');

process.once('message', (job: WorkerJob) => {
  gradeSubmission(job, (event) => send(event))
    .catch((error: unknown) => {
      console.error(`ecp grade worker: ${(error as Error).stack ?? error}`);
      process.exitCode = 1;
    })
    .finally(() => process.disconnect());
});
