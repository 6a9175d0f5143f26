/**
 * Lifecycle: the target and key pool per cucumber process (BeforeAll/AfterAll), a restart when the
 * policy asks for one, and the evidence attached to every failing scenario: each client's wire
 * transcript and what the server printed meanwhile, then, once the next scenario begins, what it
 * printed after the failing one ended (a server often logs a connection's end, or its crash, late).
 */
import {
  After,
  AfterAll,
  Before,
  BeforeAll,
  Status,
  setDefaultTimeout,
  setWorldConstructor,
} from '@cucumber/cucumber';
import { markFailedScenarioEnd, takeFailedScenarioEnd } from '../failed-scenario-end.ts';
import { AFTER_PREVIOUS_SCENARIO, SERVER_OUTPUT_FILE } from '../results.ts';
import { TRANSPORT_TAGS } from '../transport-tags.ts';
import type { ConformanceWorldParameters } from '../world-parameters.ts';
import { closeRunContext, openRunContext, runContext } from './run-context.ts';
import { ConformanceWorld } from './world.ts';

setWorldConstructor(ConformanceWorld);
// Steps bound their own waits with --timeout; this only stops a scenario that hangs for another reason.
setDefaultTimeout(180_000);

BeforeAll(async function () {
  // The runner is the only one that sets world parameters, always with this shape.
  await openRunContext(this.parameters as unknown as ConformanceWorldParameters);
});

AfterAll(async () => {
  await closeRunContext();
});

/**
 * Scenarios that only make sense on some transports carry a tag that says which (TRANSPORT_TAGS);
 * elsewhere they are skipped, and the report says why.
 */
Before(function (this: ConformanceWorld, { pickle }) {
  const transport = runContext().target.endpoint.transport;
  for (const { name } of pickle.tags) {
    const rule = TRANSPORT_TAGS[name];
    if (rule !== undefined && !rule.applies(transport)) {
      this.log(`Not checked over ${transport}://: this scenario ${rule.why}.`);
      return 'skipped';
    }
  }
  return undefined;
});

Before(async function (this: ConformanceWorld, { pickle }) {
  await runContext().beforeScenario(pickle.uri);
  const start = await this.target.settleOutput();
  const failedEnd = takeFailedScenarioEnd(runContext().parameters.runId);
  if (failedEnd !== undefined) {
    // The results route this to the scenario before, which can no longer take attachments.
    const after = this.target.outputBetween(failedEnd, start);
    if (after) this.attach(after, { mediaType: AFTER_PREVIOUS_SCENARIO, fileName: SERVER_OUTPUT_FILE });
  }
  this.begin(
    pickle.tags.map((tag) => tag.name),
    `${pickle.uri}: ${pickle.name}`,
    pickle.name,
  );
  this.notes.serverOutputStart = start;
});

After(async function (this: ConformanceWorld, { result }) {
  if (result?.status === Status.FAILED) {
    for (const { label, text } of this.transcripts()) {
      this.attach(text, { mediaType: 'text/plain', fileName: `transcript-${label}.txt` });
    }
    if (this.target.kind !== 'running') {
      const end = await this.target.settleOutput();
      const output = this.target.outputBetween(this.notes.serverOutputStart ?? end, end);
      this.attach(output || '(the server wrote nothing while this scenario ran)\n', {
        mediaType: 'text/plain',
        fileName: SERVER_OUTPUT_FILE,
      });
      markFailedScenarioEnd(runContext().parameters.runId, end);
    }
  }
  await this.closeAll();
});
