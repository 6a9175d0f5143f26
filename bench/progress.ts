/**
 * What a person sees while a bench runs: a progress bar on a terminal (cli-progress, on stderr),
 * plain lines otherwise (one per phase, and one every few seconds), nothing when quiet.
 */
import cliProgress from 'cli-progress';
import type { BenchHooks } from './bench-runner.ts';
import type { RunPhase, RunProgress } from './run-once.ts';

const PLAIN_LINE_INTERVAL_MS = 2000;

export function progressHooks(
  stream: NodeJS.WriteStream = process.stderr,
  quiet = false,
): BenchHooks & { stop(): void } {
  if (quiet) return { stop() {} };
  return stream.isTTY ? barHooks(stream) : lineHooks(stream);
}

function describe(progress: RunProgress): string {
  const rate = Math.round(progress.deliveriesPerSecond).toLocaleString('en-US');
  return progress.phase === 'draining'
    ? `${progress.received.toLocaleString('en-US')} of ${progress.expected?.toLocaleString('en-US') ?? '?'} received`
    : `${rate} deliveries/s`;
}

function barHooks(stream: NodeJS.WriteStream): BenchHooks & { stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{run} {phase} [{bar}] {percentage}% | {detail}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let runLabel = '';
  let started = false;
  return {
    runStarted(run, runs, point) {
      runLabel = `${point ? `${point} ` : ''}run ${run}/${runs}`;
      if (started) bar.stop();
      bar.start(100, 0, { run: runLabel, phase: 'connecting'.padEnd(10), detail: '' });
      started = true;
    },
    progress(progress) {
      bar.update(Math.round(progress.fraction * 100), {
        run: runLabel,
        phase: progress.phase.padEnd(10),
        detail: describe(progress),
      });
    },
    runFinished() {
      bar.stop();
      started = false;
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function lineHooks(stream: NodeJS.WriteStream): BenchHooks & { stop(): void } {
  let runLabel = '';
  let phase: RunPhase | undefined;
  let lastLine = 0;
  return {
    runStarted(run, runs, point) {
      runLabel = `${point ? `${point} ` : ''}run ${run}/${runs}`;
      phase = undefined;
    },
    progress(progress) {
      const now = Date.now();
      if (progress.phase !== phase || now - lastLine >= PLAIN_LINE_INTERVAL_MS) {
        phase = progress.phase;
        lastLine = now;
        stream.write(
          `${runLabel}: ${progress.phase} ${Math.round(progress.fraction * 100)}% | ${describe(progress)}\n`,
        );
      }
    },
    runFinished(run) {
      stream.write(`${runLabel}: done (run ${run})\n`);
    },
    stop() {},
  };
}
