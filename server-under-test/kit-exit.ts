/**
 * What the kit starts must not outlive it: a spawned server left running holds its port until
 * someone finds it. Whatever starts a process registers here how to stop it. When the kit is ended
 * by SIGINT, SIGTERM or SIGHUP (Ctrl-C, a cancelled CI job, `timeout`, a closed terminal), or its
 * parent dies without a signal reaching it, every registered process is stopped and the kit exits
 * as the signal would have ended it (128 + the signal's number; 129, as for a hang-up, when the
 * parent died). On any other exit, what is left is killed.
 */

export interface KitChild {
  /** Stops it gracefully; given STOP_WAIT_MS. */
  stop?: () => Promise<void>;
  /** Ends it at once; synchronous, for `exit`. Called after stop() too, so it must be harmless then. */
  kill: () => void;
}

const EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
type EndingSignal = keyof typeof EXIT_CODES;
const SIGNALS = Object.keys(EXIT_CODES) as EndingSignal[];
/** How long the graceful stops may take before everything is killed. */
const STOP_WAIT_MS = 3000;
/** How often the kit looks whether its parent is still there (reparented: the parent died). */
const PARENT_POLL_MS = 250;

const children = new Set<KitChild>();
let parentWatch: NodeJS.Timeout | undefined;
let ending = false;

/** Registers a child to stop when the kit ends; returns how to forget it once it is stopped. */
export function stopWhenKitEnds(child: KitChild): () => void {
  if (children.size === 0) watch();
  children.add(child);
  return () => {
    children.delete(child);
    if (children.size === 0 && !ending) unwatch();
  };
}

function watch(): void {
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', killAll);
  const parent = process.ppid;
  // Unref'd: watching never keeps the kit alive.
  parentWatch = setInterval(() => {
    if (process.ppid !== parent) void end(EXIT_CODES.SIGHUP);
  }, PARENT_POLL_MS).unref();
}

function unwatch(): void {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  process.removeListener('exit', killAll);
  clearInterval(parentWatch);
}

function onSignal(signal: EndingSignal): void {
  // A second signal while stopping: no more waiting.
  if (ending) {
    killAll();
    process.exit(EXIT_CODES[signal]);
  }
  void end(EXIT_CODES[signal]);
}

async function end(code: number): Promise<void> {
  if (ending) return;
  ending = true;
  clearInterval(parentWatch);
  const stopping = [...children].map((child) => child.stop?.().catch(() => {}));
  await Promise.race([
    Promise.all(stopping),
    new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref()),
  ]);
  process.exit(code);
}

function killAll(): void {
  for (const child of children) {
    try {
      child.kill();
    } catch {
      // Already gone.
    }
  }
}
