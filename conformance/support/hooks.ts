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
import type { Endpoint } from '../../transport/index.ts';
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
 * elsewhere they are skipped, and the report says why. On a room with several endpoints, such a
 * scenario's clients connect only to the endpoints of the transports it is about.
 */
Before(function (this: ConformanceWorld, { pickle }) {
  const rules = pickle.tags.flatMap(({ name }) => TRANSPORT_TAGS[name] ?? []);
  if (rules.length === 0) return undefined;
  const { endpoints } = this.target;
  // About one transport's wire: the clients are spread over the endpoints of that transport only.
  const applies = (item: Endpoint) => rules.every((rule) => rule.applies(item.transport));
  if (!endpoints.some(applies)) {
    const transports = [...new Set(endpoints.map((item) => `${item.transport}://`))].join(' or ');
    const rule = rules.find((item) => !item.applies(endpoints[0]!.transport)) ?? rules[0]!;
    this.log(`Not checked over ${transports}: this scenario ${rule.why}.`);
    return 'skipped';
  }
  this.keepTo(applies);
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
  if (result?.status !== Status.SKIPPED && this.target.endpoints.length > 1) {
    const placement = this.placement();
    if (placement.length > 0) this.log(`Endpoints: ${placement.join(', ')}.`);
  }
  await this.closeAll();
});
