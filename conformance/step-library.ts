/**
 * `ecp conformance --steps`: the step library an instructor's own `.feature` files can use, read
 * from cucumber's messages for a dry run of the kit's features, so it cannot drift from the code.
 * For each step: its text (a cucumber expression or a regular expression), an example from the
 * kit's scenarios, and which requirements the scenarios that use it check.
 */
import type { Envelope } from '@cucumber/messages';
import { requirementIdsOf } from './requirements.ts';
import { dryRunMessages } from './runner.ts';

export interface StepEntry {
  /** Given, When or Then, as the kit's scenarios use it (Step when none does). */
  keyword: string;
  /** A cucumber expression (`{member} is connected`) or `/regex/`. */
  text: string;
  /** `conformance/support/steps/members.steps.ts:12`. */
  location: string;
  /** Up to three different steps of the kit's features that use it. */
  examples: string[];
  /** The requirements of the kit's scenarios that use it, in order of first use. */
  requirements: string[];
  scenarios: number;
}

export interface ParameterEntry {
  name: string;
  /** What it matches, in words or as regular expressions. */
  matches: string;
}

export interface StepLibrary {
  steps: StepEntry[];
  parameters: ParameterEntry[];
}

/** Cucumber's built-in parameter types that the kit's steps use. */
const BUILT_IN: ParameterEntry[] = [
  { name: 'string', matches: '"text in double quotes"' },
  { name: 'int', matches: 'a whole number: 42' },
];

/** The kit's own parameter types, in words (their regular expressions are long). */
const DESCRIBED: Record<string, string> = {
  member: 'one of the clients a scenario may use: alice, bob, carol, dave, mallory, trudy',
  members: 'several of them: "alice and bob", "alice, bob and carol"',
  boolean: 'true or false',
};

const KEYWORDS: Record<string, string> = { Context: 'Given', Action: 'When', Outcome: 'Then' };

/** `(?:alice|bob|...)` as `{member}` in a regular expression step, so it reads like the others. */
function readable(source: string): string {
  return source.replace(/\(?\(\?:alice\|bob\|carol\|dave\|mallory\|trudy\)\)?/g, '{member}');
}

export async function describeStepLibrary(): Promise<StepLibrary> {
  const definitions: { id: string; text: string; location: string }[] = [];
  const parameters: ParameterEntry[] = [...BUILT_IN];
  const pickles = new Map<string, { tags: string[]; steps: Map<string, { text: string; type?: string }> }>();
  /** Step definition id → the pickles (scenarios) and step texts that use it. */
  const uses = new Map<string, { pickleId: string; text: string; type?: string }[]>();
  await dryRunMessages((envelope: Envelope) => {
    if (envelope.stepDefinition) {
      const { id, pattern, sourceReference } = envelope.stepDefinition;
      definitions.push({
        id,
        text: pattern.type === 'REGULAR_EXPRESSION' ? `/${readable(pattern.source)}/` : pattern.source,
        location: `${sourceReference.uri ?? '?'}:${sourceReference.location?.line ?? 0}`,
      });
    } else if (envelope.parameterType) {
      const { name, regularExpressions } = envelope.parameterType;
      parameters.push({ name, matches: DESCRIBED[name] ?? regularExpressions.join(' | ') });
    } else if (envelope.pickle) {
      const { id, tags, steps } = envelope.pickle;
      pickles.set(id, {
        tags: tags.map((tag) => tag.name),
        steps: new Map(steps.map((step) => [step.id, { text: step.text, type: step.type }])),
      });
    } else if (envelope.testCase) {
      const pickle = pickles.get(envelope.testCase.pickleId);
      for (const step of envelope.testCase.testSteps) {
        const pickleStep = step.pickleStepId ? pickle?.steps.get(step.pickleStepId) : undefined;
        if (!pickleStep) continue;
        for (const definitionId of step.stepDefinitionIds ?? []) {
          const list = uses.get(definitionId) ?? [];
          list.push({ pickleId: envelope.testCase.pickleId, ...pickleStep });
          uses.set(definitionId, list);
        }
      }
    }
  });
  const steps = definitions.map((definition): StepEntry => {
    const used = uses.get(definition.id) ?? [];
    const scenarioIds = [...new Set(used.map((use) => use.pickleId))];
    const requirements = scenarioIds.flatMap((id) => requirementIdsOf(pickles.get(id)?.tags ?? []));
    return {
      keyword: KEYWORDS[used[0]?.type ?? ''] ?? 'Step',
      text: definition.text,
      location: definition.location,
      examples: [...new Set(used.map((use) => use.text))].slice(0, 3),
      requirements: [...new Set(requirements)],
      scenarios: scenarioIds.length,
    };
  });
  return { steps, parameters };
}

/** The library as text, grouped by the file each step lives in (one per domain). */
export function formatStepLibrary(library: StepLibrary): string {
  const lines = [
    `The step library of the conformance kit: ${library.steps.length} steps, usable in any .feature file given with --features DIR.`,
    'Tag each scenario with the requirement it checks (@ECP-HS-02) and, for the reports, a profile (@core) and a lab (@lab-14).',
    '',
    'Parameters:',
    ...library.parameters.map((parameter) => `  {${parameter.name}}  ${parameter.matches}`),
  ];
  let file = '';
  for (const step of library.steps) {
    const stepFile = step.location.replace(/:\d+$/, '');
    if (stepFile !== file) {
      file = stepFile;
      lines.push('', stepFile);
    }
    lines.push(`  ${step.keyword.padEnd(5)} ${step.text}`);
    for (const example of step.examples) lines.push(`        e.g. ${step.keyword} ${example}`);
    lines.push(
      step.scenarios > 0
        ? `        helps check ${step.requirements.join(' ')} (${step.scenarios} scenario${step.scenarios === 1 ? '' : 's'})`
        : '        (no scenario of the kit uses it yet)',
    );
  }
  return `${lines.join('\n')}\n`;
}
