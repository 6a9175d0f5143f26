/**
 * Histories of several clients acting at once, as `ecp fuzz` writes them: the room must come out
 * of every run as the specification says, however the steps raced.
 */
import { Then, When } from '@cucumber/cucumber';
// The model's modules themselves, not the fuzz's index: that would load `ecp fuzz`, and the runner with it.
import { transcriptText } from '../../fuzz/feature-writer.ts';
import { parseHistory } from '../../fuzz/history.ts';
import { FuzzSession } from '../../fuzz/session.ts';
import type { ConformanceWorld } from '../world.ts';

/** A repeated history may take minutes against a slow server; each run is bounded on its own. */
const HISTORY_STEP_TIMEOUT_MS = 15 * 60_000;

When(
  'the clients act out this history, up to {int} times until the room breaks a rule:',
  { timeout: HISTORY_STEP_TIMEOUT_MS },
  async function (this: ConformanceWorld, times: number, text: string) {
    const history = parseHistory(text);
    const session = new FuzzSession({
      endpoint: this.target.endpoint,
      connectOptions: this.target.connectOptions,
      password: this.target.password,
      nextKey: () => this.keys.next(),
    });
    // A race does not show every time: the history runs until it breaks a rule or the runs are used up.
    const broken = await session.runUntilBroken(history, times);
    this.notes.brokenHistory = broken
      ? {
          violations: broken.violations,
          transcript: transcriptText(broken.trace, broken.violations),
          runs: session.runs,
        }
      : null;
  },
);

Then('every member saw the room as the specification says', function (this: ConformanceWorld) {
  const broken = this.notes.brokenHistory;
  if (broken === undefined) throw new Error('no history was acted out before this step');
  if (broken === null) return;
  this.attach(broken.transcript, 'text/plain');
  this.fail({
    expected: 'every run of the history leaves the room as the specification says',
    actual: `run ${broken.runs} broke ${broken.violations.map((item) => `${item.requirement}: ${item.text}`).join('; ')}`,
    hint: 'The transcript attached shows every line each connection sent and received, in time order.',
  });
});
