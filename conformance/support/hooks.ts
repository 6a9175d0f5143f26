/**
 * Lifecycle: the target and key pool per cucumber process (BeforeAll/AfterAll), a restart when the
 * policy asks for one, and the evidence attached to every failing scenario: each client's wire
 * transcript and what a spawned server printed meanwhile.
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
import { isByteStream, type TransportName, usesTls } from '../../transport/index.ts';
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
 * Scenarios that only make sense on some transports carry a tag that says which; elsewhere they are
 * skipped, and the report says why.
 */
const TRANSPORT_TAGS: Record<string, { applies: (transport: TransportName) => boolean; why: string }> = {
  '@byte-stream': {
    applies: isByteStream,
    why: 'checks how lines travel in a byte stream (split, joined, raw bytes); WebSocket carries one message per frame and has scenarios of its own',
  },
  '@websocket': {
    applies: (transport) => transport === 'ws' || transport === 'wss',
    why: 'checks the WebSocket mapping',
  },
  '@tls': { applies: usesTls, why: 'checks TLS' },
};

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
  this.begin(
    pickle.tags.map((tag) => tag.name),
    `${pickle.uri}: ${pickle.name}`,
    pickle.name,
  );
  this.notes.serverOutputBefore = this.target.serverOutput();
});

After(async function (this: ConformanceWorld, { result }) {
  if (result?.status === Status.FAILED) {
    for (const { label, text } of this.transcripts()) {
      this.attach(text, { mediaType: 'text/plain', fileName: `transcript-${label}.txt` });
    }
    const output = outputSince(this.notes.serverOutputBefore ?? '', this.target.serverOutput());
    if (output.trim()) this.attach(output, { mediaType: 'text/plain', fileName: 'server-output.txt' });
  }
  await this.closeAll();
});

/** What a server printed during the scenario; the whole kept tail when the start was cut off. */
function outputSince(before: string, now: string): string {
  return now.startsWith(before) ? now.slice(before.length) : now;
}
