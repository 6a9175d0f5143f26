import type { StepMatchArgument } from '@cucumber/messages';
import { describe, expect, it } from 'vitest';
import { dryRunMessages } from '../../conformance/runner.ts';

/**
 * A step's text as cucumber's reports show it: the text between arguments, then each argument's
 * value where it starts. A regular-expression group that takes no part in the match has neither,
 * and the report then repeats the text around it ("without the username field field field").
 */
function rendered(text: string, argumentList: readonly StepMatchArgument[]): string {
  let offset = 0;
  let out = '';
  for (const { group } of argumentList) {
    out += text.slice(offset, group.start) + String(group.value);
    offset = (group.start ?? Number.NaN) + (group.value?.length ?? 0);
  }
  return out + text.slice(offset);
}

describe("the steps' arguments", () => {
  it('are each part of the step text, so every report prints the step as written', async () => {
    const texts = new Map<string, string>();
    const wrong: string[] = [];
    let checked = 0;
    await dryRunMessages((envelope) => {
      for (const step of envelope.pickle?.steps ?? []) texts.set(step.id, step.text);
      for (const testStep of envelope.testCase?.testSteps ?? []) {
        const text = texts.get(testStep.pickleStepId ?? '');
        for (const { stepMatchArguments } of testStep.stepMatchArgumentsLists ?? []) {
          if (text === undefined) continue;
          checked += 1;
          const shown = rendered(text, stepMatchArguments);
          if (shown !== text) wrong.push(`${text} → ${shown}`);
        }
      }
    });
    expect(checked).toBeGreaterThan(100);
    expect([...new Set(wrong)]).toEqual([]);
  });
});
