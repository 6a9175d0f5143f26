/**
 * Lifecycle of a client run: the shared context per cucumber process, the transport tags, and the
 * evidence attached to every scenario that did not pass: the wire transcript (decrypted where the
 * kit holds the key) and what the client wrote on stdout and stderr. The client and its whole
 * process group are stopped after every scenario, whatever happened.
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
import { TRANSPORT_TAGS } from '../transport-tags.ts';
import type { ClientWorldParameters } from './client-parameters.ts';
import { closeClientRunContext, openClientRunContext } from './client-run-context.ts';
import { ClientWorld } from './client-world.ts';

setWorldConstructor(ClientWorld);
// Steps bound their own waits; this only stops a scenario that hangs for another reason.
setDefaultTimeout(120_000);

BeforeAll(async function () {
  await openClientRunContext(this.parameters as unknown as ClientWorldParameters);
});

AfterAll(() => closeClientRunContext());

Before(function (this: ClientWorld, { pickle }) {
  const tags = pickle.tags.map((tag) => tag.name);
  for (const name of tags) {
    const rule = TRANSPORT_TAGS[name];
    if (rule !== undefined && !rule.applies(this.parameters.transport)) {
      this.log(`Not checked over ${this.parameters.transport}://: this scenario ${rule.why}.`);
      return 'skipped';
    }
  }
  this.begin(tags);
  return undefined;
});

After(async function (this: ClientWorld, { result }) {
  await this.closeAll();
  if (result?.status === Status.PASSED || result?.status === Status.SKIPPED || !this.client) return;
  this.attach(this.wire.format(), { mediaType: 'text/plain', fileName: 'transcript-client.txt' });
  const exit = this.client.exit;
  const ended = this.client.stoppedByKit
    ? 'still running at the end: stopped with its process group'
    : `exit: ${exit?.signal ?? `status ${exit?.code}`}`;
  const about = `$ ${this.client.commandLine}\n${ended}${this.client.fault ? `\nfault: ${this.client.fault}` : ''}\n`;
  this.attach(`${about}${this.client.stdout.text()}`, {
    mediaType: 'text/plain',
    fileName: 'client-stdout.txt',
  });
  const stderr = this.client.stderr.text();
  if (stderr.trim()) this.attach(stderr, { mediaType: 'text/plain', fileName: 'client-stderr.txt' });
});
