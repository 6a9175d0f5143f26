/**
 * Turns cucumber's message stream into one result per scenario: its profile and requirement IDs,
 * its verdict, how long it took, and for a failure the step, the message and the evidence
 * (transcripts, server output) attached to it.
 */
import {
  type Envelope,
  getWorstTestStepResult,
  type Pickle,
  type TestStepResult,
  TestStepResultStatus,
  TimeConversion,
} from '@cucumber/messages';
import { labOf, labsOf } from './labs.ts';
import { type Profile, profileOf } from './profiles.ts';
import { requirementIdsOf } from './requirements.ts';

export type ScenarioStatus = 'passed' | 'failed' | 'skipped' | 'undefined' | 'pending' | 'ambiguous';

export interface Attachment {
  name: string;
  text: string;
}

export interface ScenarioResult {
  /** `features/handshake.feature:7` (the line of the scenario, or of its Examples row). */
  location: string;
  feature: string;
  name: string;
  /** The scenario's profile tag; undefined for a scenario tagged with none (a fault in the features). */
  profile: Profile | undefined;
  requirements: string[];
  /** The scenario's lab (`@lab-N`); undefined for one tagged with none or several. */
  lab: number | undefined;
  /** Every lab it names (exactly one for the kit's scenarios). */
  labs: number[];
  /** Every tag, the Examples' included. */
  tags: string[];
  /** The text of each step, as run. */
  steps: string[];
  status: ScenarioStatus;
  durationMs: number;
  /** For a scenario that did not pass: the step that decided it and what it said. */
  failure?: { step: string; message: string };
  /** What the scenario said about itself (e.g. why a check could not be made on this target). */
  notes: string[];
  /** Evidence attached to a failing scenario: one transcript per client, the server's output. */
  attachments: Attachment[];
}

/** The media type of `this.log(...)` in a step. */
const LOG_MEDIA_TYPE = 'text/x.cucumber.log+plain';
export const SERVER_OUTPUT_FILE = 'server-output.txt';
/**
 * The media type of what the server printed after a failing scenario ended, until the next one
 * began. Attached by the next scenario, it belongs to the one before on the same worker.
 */
export const AFTER_PREVIOUS_SCENARIO = 'text/x.ecp.after-previous-scenario+plain';
const AFTER_SEPARATOR = '--- after the scenario ended ---\n';

const STATUS: Record<TestStepResultStatus, ScenarioStatus> = {
  [TestStepResultStatus.UNKNOWN]: 'failed',
  [TestStepResultStatus.PASSED]: 'passed',
  [TestStepResultStatus.SKIPPED]: 'skipped',
  [TestStepResultStatus.PENDING]: 'pending',
  [TestStepResultStatus.UNDEFINED]: 'undefined',
  [TestStepResultStatus.AMBIGUOUS]: 'ambiguous',
  [TestStepResultStatus.FAILED]: 'failed',
};

interface RunningCase {
  pickle: Pickle;
  /** testStep id → the text of its pickle step (hooks have none). */
  stepTexts: Map<string, string>;
  startedAt: number;
  results: { stepId: string; result: TestStepResult }[];
  notes: string[];
  attachments: Attachment[];
}

export class ResultCollector {
  readonly results: ScenarioResult[] = [];
  readonly #features = new Map<string, string>();
  /** Examples row id → its cells, so each case of a Scenario Outline gets a name of its own. */
  readonly #exampleRows = new Map<string, string[]>();
  readonly #pickles = new Map<string, Pickle>();
  readonly #testCases = new Map<string, { pickleId: string; stepTexts: Map<string, string> }>();
  readonly #running = new Map<string, RunningCase>();
  /** testCaseStarted id → its worker ('' in a serial run). */
  readonly #workers = new Map<string, string>();
  /** Worker → the last scenario it finished with the server's output in its evidence. */
  readonly #lastFinished = new Map<string, ScenarioResult>();
  readonly #onResult: (result: ScenarioResult) => void;

  constructor(onResult: (result: ScenarioResult) => void = () => {}) {
    this.#onResult = onResult;
  }

  /** Feed every envelope of a run, in order. */
  readonly onMessage = (envelope: Envelope): void => {
    if (envelope.gherkinDocument?.feature && envelope.gherkinDocument.uri) {
      const { feature, uri } = envelope.gherkinDocument;
      this.#features.set(uri, feature.name);
      const scenarios = feature.children.flatMap((child) => [
        ...(child.scenario ? [child.scenario] : []),
        ...(child.rule?.children.flatMap((inRule) => (inRule.scenario ? [inRule.scenario] : [])) ?? []),
      ]);
      for (const row of scenarios.flatMap((scenario) =>
        scenario.examples.flatMap((examples) => examples.tableBody),
      )) {
        this.#exampleRows.set(
          row.id,
          row.cells.map((cell) => cell.value),
        );
      }
    } else if (envelope.pickle) {
      this.#pickles.set(envelope.pickle.id, envelope.pickle);
    } else if (envelope.testCase) {
      const pickle = this.#pickles.get(envelope.testCase.pickleId);
      const texts = new Map(pickle?.steps.map((step) => [step.id, step.text]));
      const stepTexts = new Map<string, string>();
      for (const step of envelope.testCase.testSteps) {
        const text = step.pickleStepId ? texts.get(step.pickleStepId) : undefined;
        if (text !== undefined) stepTexts.set(step.id, text);
      }
      this.#testCases.set(envelope.testCase.id, { pickleId: envelope.testCase.pickleId, stepTexts });
    } else if (envelope.testCaseStarted) {
      const started = envelope.testCaseStarted;
      const testCase = this.#testCases.get(started.testCaseId);
      const pickle = testCase && this.#pickles.get(testCase.pickleId);
      if (!testCase || !pickle) return;
      this.#workers.set(started.id, started.workerId ?? '');
      this.#running.set(started.id, {
        pickle,
        stepTexts: testCase.stepTexts,
        startedAt: TimeConversion.timestampToMillisecondsSinceEpoch(started.timestamp),
        results: [],
        notes: [],
        attachments: [],
      });
    } else if (envelope.testStepFinished) {
      const finished = envelope.testStepFinished;
      this.#running.get(finished.testCaseStartedId)?.results.push({
        stepId: finished.testStepId,
        result: finished.testStepResult,
      });
    } else if (envelope.attachment) {
      const { attachment } = envelope;
      const running = attachment.testCaseStartedId
        ? this.#running.get(attachment.testCaseStartedId)
        : undefined;
      if (!running || attachment.contentEncoding !== 'IDENTITY') return;
      if (attachment.mediaType === AFTER_PREVIOUS_SCENARIO) {
        const worker = this.#workers.get(attachment.testCaseStartedId ?? '') ?? '';
        this.#addOutputAfter(this.#lastFinished.get(worker), attachment.body);
      } else if (attachment.mediaType === LOG_MEDIA_TYPE) running.notes.push(attachment.body);
      else
        running.attachments.push({
          name: attachment.fileName ?? attachment.mediaType,
          text: attachment.body,
        });
    } else if (envelope.testCaseFinished) {
      const finished = envelope.testCaseFinished;
      const running = this.#running.get(finished.testCaseStartedId);
      if (!running || finished.willBeRetried) return;
      this.#running.delete(finished.testCaseStartedId);
      const worker = this.#workers.get(finished.testCaseStartedId) ?? '';
      this.#workers.delete(finished.testCaseStartedId);
      const result = this.#resultOf(
        running,
        TimeConversion.timestampToMillisecondsSinceEpoch(finished.timestamp),
      );
      if (result.attachments.some((attachment) => attachment.name === SERVER_OUTPUT_FILE))
        this.#lastFinished.set(worker, result);
      this.results.push(result);
      this.#onResult(result);
    }
  };

  /**
   * What the server printed after the last scenario with its output in the evidence ended, until
   * it stopped (a serial run's last failing scenario has no next one to bring it).
   */
  addOutputAfterLast(text: string): void {
    if (text) this.#addOutputAfter(this.#lastFinished.get(''), text);
  }

  /** What the server printed after `result` ended, below its output during it. */
  #addOutputAfter(result: ScenarioResult | undefined, text: string): void {
    const output = result?.attachments.find((attachment) => attachment.name === SERVER_OUTPUT_FILE);
    if (!output) return;
    const newline = output.text === '' || output.text.endsWith('\n') ? '' : '\n';
    output.text = `${output.text}${newline}${AFTER_SEPARATOR}${text}`;
  }

  /** The scenario's name; for an Outline, with the values of its Examples row: `... (that is empty)`. */
  #nameOf(pickle: Pickle): string {
    const cells = pickle.astNodeIds
      .slice(1)
      .flatMap((id) => this.#exampleRows.get(id) ?? [])
      .filter((cell) => cell.trim() !== '');
    return cells.length > 0 && !cells.every((cell) => pickle.name.includes(cell))
      ? `${pickle.name} (${cells.join(', ')})`
      : pickle.name;
  }

  #resultOf(running: RunningCase, finishedAt: number): ScenarioResult {
    const { pickle } = running;
    const tags = pickle.tags.map((tag) => tag.name);
    const worst = getWorstTestStepResult(running.results.map((item) => item.result));
    const status = running.results.length === 0 ? 'skipped' : STATUS[worst.status];
    const result: ScenarioResult = {
      location: `${pickle.uri}:${pickle.location?.line ?? 0}`,
      feature: this.#features.get(pickle.uri) ?? pickle.uri,
      name: this.#nameOf(pickle),
      profile: profileOf(tags),
      requirements: requirementIdsOf(tags),
      lab: labOf(tags),
      labs: labsOf(tags),
      tags,
      steps: pickle.steps.map((step) => step.text),
      status,
      durationMs: Math.max(0, finishedAt - running.startedAt),
      notes: running.notes,
      attachments: status === 'passed' ? [] : running.attachments,
    };
    const decisive = running.results.find((item) => item.result.status === worst.status);
    if (status !== 'passed' && decisive) {
      const step = running.stepTexts.get(decisive.stepId) ?? '(a hook)';
      const message =
        decisive.result.message ??
        (status === 'undefined' ? 'This step has no definition in the kit.' : running.notes.join('\n'));
      result.failure = { step, message: message.trim() };
    }
    return result;
  }
}
