/**
 * The server as a whole: a graceful shutdown, and a crowd in the room.
 */
import { Given, Then, When } from '@cucumber/cucumber';
import type { ConformanceWorld } from '../world.ts';

/** Labels of a crowd: member01, member02, ... */
function crowd(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `member${String(index + 1).padStart(2, '0')}`);
}

When('the server shuts down gracefully', async function (this: ConformanceWorld) {
  if (!this.target.canRestart) {
    this.log('Not checked: the kit cannot stop a server it did not start (use --spawn to check shutdown).');
    return 'skipped';
  }
  // Embedded: close(); spawned: SIGTERM, then SIGKILL after a grace period. Started again before the next scenario.
  this.restartServerBeforeNextScenario();
  await this.target.close();
});

Given('{int} members are in the room', async function (this: ConformanceWorld, count: number) {
  const labels = crowd(count);
  this.notes.crowd = labels;
  await this.joinAll(labels);
});

When(
  'the first member sends the chat message {string}',
  async function (this: ConformanceWorld, text: string) {
    this.sendChat(crowd(1)[0]!, text);
  },
);

Then(
  'every member receives {string} from the first member',
  async function (this: ConformanceWorld, text: string) {
    const [first] = crowd(1);
    for (const label of this.noted('crowd')) await this.expectChat(label, first!, text);
  },
);
