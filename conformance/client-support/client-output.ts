/**
 * What the client under test shows and does, as the driver contract lets the kit read it: the chat
 * messages on its standard output (rules C2 to C4) and its exit (C5 to C7). Each wait ends on the
 * line or exit it waits for, on the client's exit, fault or broken contract, or at the timeout.
 */
import type { ClientProcess, NumberedLine, ProcessExit } from './client-process.ts';
import type { ClientScenario } from './client-scenario.ts';
import type { ContractRule } from './driver-contract.ts';

export class ClientOutput {
  readonly #scenario: ClientScenario;

  constructor(scenario: ClientScenario) {
    this.#scenario = scenario;
  }

  get #client(): ClientProcess {
    const { client } = this.#scenario;
    if (!client) throw new Error('the client was not started');
    return client;
  }

  /**
   * Waits until the client shows a chat message from `sender` with `text` (contract rules C2, C3).
   * With `answerAfter`, the first line from `sender` after that many stdout lines is the client's
   * answer to this message: if it is another, the wait ends there.
   */
  async shows(sender: string, text: string, encrypted: boolean, answerAfter?: number): Promise<NumberedLine> {
    const what = `the client shows ${JSON.stringify(text)} from ${sender}`;
    const found = await this.#waitForLine(
      (line) => line.shown.kind === 'chat' && line.shown.sender === sender && line.shown.text === text,
      what,
      answerAfter === undefined
        ? undefined
        : (line) =>
            line.number > answerAfter &&
            (line.shown.kind === 'chat' || line.shown.kind === 'undecryptable') &&
            line.shown.sender === sender,
    );
    if (found.shown.kind === 'chat' && found.shown.encrypted !== encrypted) {
      this.#scenario.fail({
        expected: `the client shows ${JSON.stringify(text)} from ${sender} with "encrypted": ${encrypted}`,
        actual: `stdout line ${found.number} says "encrypted": ${found.shown.encrypted}`,
      });
    }
    return found;
  }

  /** How many stdout lines show a chat message from `sender`, decrypted or not. */
  shownFrom(sender: string): number {
    return (this.#scenario.client?.lines ?? []).filter(
      ({ shown }) => (shown.kind === 'chat' || shown.kind === 'undecryptable') && shown.sender === sender,
    ).length;
  }

  /** The contract lines broken so far, as a failure. */
  checkContract(): void {
    const broken = this.#brokenLine();
    if (broken && broken.shown.kind === 'broken') {
      this.#scenario.failContract(broken.shown.rule, `stdout line ${broken.number}: ${broken.shown.detail}`);
    }
  }

  #brokenLine(): NumberedLine | undefined {
    return this.#scenario.client?.lines.find((line) => line.shown.kind === 'broken');
  }

  async #waitForLine(
    matches: (line: NumberedLine) => boolean,
    what: string,
    isAnswer?: (line: NumberedLine) => boolean,
  ): Promise<NumberedLine> {
    const client = this.#client;
    const { timeoutMs } = this.#scenario;
    let seen = 0;
    let answer: NumberedLine | undefined;
    const found = await new Promise<NumberedLine | undefined>((resolve) => {
      const check = (): void => {
        for (; seen < client.lines.length; seen++) {
          const line = client.lines[seen]!;
          if (matches(line)) {
            finish(line);
            return;
          }
          if (isAnswer?.(line)) {
            answer = line;
            finish(undefined);
            return;
          }
        }
        // A line that broke the contract ends the wait early: the failure names the rule.
        if (client.exit || client.fault || this.#brokenLine()) finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const stop = client.onChange(check);
      const finish = (line: NumberedLine | undefined): void => {
        clearTimeout(timer);
        stop();
        resolve(line);
      };
      check();
    });
    if (found) return found;
    this.checkContract();
    if (answer) {
      const { kind, ...shown } = answer.shown;
      const instead = kind === 'undecryptable' ? { ...shown, undecryptable: true } : shown;
      this.#scenario.fail({
        expected: what,
        actual: `stdout line ${answer.number} shows ${JSON.stringify(instead)}: its line for this message, since every earlier message from that sender has its own`,
      });
    }
    const shown = client.lines
      .filter((line) => line.shown.kind === 'chat' || line.shown.kind === 'undecryptable')
      .map((line) => {
        const { kind: _kind, ...shown } = line.shown;
        return JSON.stringify(shown);
      })
      .slice(-5);
    this.#scenario.fail({
      expected: `${what} within ${timeoutMs} ms`,
      actual: client.fault
        ? `the client ${client.fault}`
        : `${client.exit ? `the client exited (${client.exit.signal ?? `status ${client.exit.code}`}); ` : ''}shown so far: ${shown.length > 0 ? shown.join(', ') : 'no chat message'}`,
    });
  }

  /** Waits for the client to exit, up to `timeoutMs` (at least the time it may take to end cleanly). */
  async exits(rule: ContractRule): Promise<ProcessExit> {
    const client = this.#client;
    const limit = Math.max(this.#scenario.timeoutMs, this.#scenario.startTimeoutMs / 2);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, limit);
      const stop = client.onChange(() => client.exit && finish());
      function finish(): void {
        clearTimeout(timer);
        stop();
        resolve();
      }
      if (client.exit) finish();
    });
    if (!client.exit) {
      await client.stop();
      this.#scenario.failContract(
        rule,
        `the client was still running ${limit} ms later, and was stopped with its process group`,
      );
    }
    return client.exit!;
  }
}
