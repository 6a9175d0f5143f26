/**
 * The features against docs/protocol.md and the lab catalogue: every server MUST and SHOULD has a
 * scenario, every ID a scenario names exists, every scenario checks one requirement with the one
 * profile that fits its level, belongs to exactly one lab, and every step has a definition.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LABS } from '../../conformance/labs.ts';
import { loadRequirements, type Requirement } from '../../conformance/requirements.ts';
import { type PlannedScenario, planScenarios } from '../../conformance/runner.ts';
import { traceRequirements } from '../../conformance/traceability.ts';

let scenarios: PlannedScenario[];
let requirements: Requirement[];

let clientScenarios: PlannedScenario[];

beforeAll(async () => {
  clientScenarios = await planScenarios({ profile: 'all', party: 'client' });
  scenarios = [...(await planScenarios('all')), ...clientScenarios];
  requirements = loadRequirements();
});

describe('traceability of docs/protocol.md to the features', () => {
  it('finds the requirements and the scenarios', () => {
    expect(requirements.length).toBeGreaterThanOrEqual(30);
    expect(scenarios.length).toBeGreaterThanOrEqual(100);
  });

  it('covers every server MUST and SHOULD, and names no unknown requirement', () => {
    const { uncovered, unknown } = traceRequirements(requirements, scenarios);
    expect(uncovered.map((item) => item.id)).toEqual([]);
    expect(unknown).toEqual([]);
  });

  it('covers every client MUST and SHOULD with the client features, and only with them', () => {
    const { uncovered } = traceRequirements(requirements, clientScenarios, 'client');
    expect(uncovered.map((item) => item.id)).toEqual([]);
    const partyOf = new Map(requirements.map((item) => [item.id, item.party]));
    const labOf = new Map(LABS.map((lab) => [lab.number, lab.party]));
    expect(
      clientScenarios
        .filter(
          (item) =>
            item.requirements.some((id) => partyOf.get(id) !== 'client') ||
            labOf.get(item.labs[0]!) !== 'client',
        )
        .map((item) => item.location),
    ).toEqual([]);
  });

  it('gives every scenario exactly one profile and exactly one requirement, so a verdict names one rule', () => {
    expect(scenarios.filter((item) => item.profile === undefined).map((item) => item.location)).toEqual([]);
    expect(
      scenarios
        .filter((item) => item.requirements.length !== 1)
        .map((item) => `${item.location} ${item.requirements.join(' ') || '(none)'}`),
    ).toEqual([]);
  });

  it('puts every scenario in exactly one lab of the catalogue', () => {
    const known = new Set(LABS.map((lab) => lab.number));
    expect(
      scenarios
        .filter((item) => item.labs.length !== 1 || !known.has(item.labs[0]!))
        .map((item) => `${item.location} ${item.labs.map((n) => `@lab-${n}`).join(' ') || '(no lab)'}`),
    ).toEqual([]);
  });

  it('gives every lab scenarios, except the bench lab', () => {
    for (const lab of LABS.filter((item) => !item.bench)) {
      const count = scenarios.filter((item) => item.labs[0] === lab.number).length;
      expect(count, `lab ${lab.number} ${lab.title}`).toBeGreaterThan(0);
    }
  });

  // What each lab teaches first, as the steps that need it: a scenario of an earlier lab must not
  // use them, or a server that has done only the labs so far could not pass it.
  const TAUGHT_IN: [number, string, RegExp][] = [
    [
      3,
      'admitting a member',
      /\b(?:is|are) in the room$|\bjoins?\b|\bis admitted$|asks? to join|name is taken/,
    ],
    [4, 'relaying chat', /chat message|receives? .*".*" from|\bown ".*" back|payload/],
    [
      5,
      'taken names and notices',
      /name is taken|asks to join with|system notice|has (?:joined|left) the chat/,
    ],
  ];

  it('never lets a lab need what a later lab teaches', () => {
    const early = scenarios.flatMap((item) =>
      TAUGHT_IN.flatMap(([lab, what, step]) =>
        (item.labs[0] ?? 0) < lab
          ? item.steps
              .filter((text) => step.test(text))
              .map((text) => `${item.location} (lab ${item.labs[0]}) needs ${what} (lab ${lab}): ${text}`)
          : [],
      ),
    );
    expect(early).toEqual([]);
  });

  it('numbers the labs 1, 2, 3, ... with a page each under docs/labs/', () => {
    expect(LABS.map((lab) => lab.number)).toEqual(LABS.map((_, index) => index + 1));
    for (const lab of LABS) expect(lab.page).toMatch(/^docs\/labs\/\d{2}-[a-z0-9-]+\.md$/);
  });

  it('checks MUSTs in core and SHOULDs in strict and robustness: core asks nothing v1 does not promise', () => {
    const levelOf = new Map(requirements.map((item) => [item.id, item.level]));
    const misfiled = scenarios.filter((item) => {
      const levels = item.requirements.map((id) => levelOf.get(id) ?? '');
      return item.profile === 'core'
        ? !levels.every((level) => level.startsWith('MUST'))
        : !levels.some((level) => level.startsWith('SHOULD'));
    });
    expect(misfiled.map((item) => `${item.location} ${item.profile} ${item.requirements.join(' ')}`)).toEqual(
      [],
    );
  });

  it('defines every step of every scenario', () => {
    expect(scenarios.filter((item) => !item.defined).map((item) => item.location)).toEqual([]);
  });
});

describe('traceRequirements', () => {
  const requirement = (
    id: string,
    level: Requirement['level'],
    party: Requirement['party'],
  ): Requirement => ({
    id,
    level,
    party,
    text: 'text',
    line: 1,
    section: '1',
  });

  it('reports server MUSTs and SHOULDs without a scenario, never MAYs or client requirements', () => {
    const result = traceRequirements(
      [
        requirement('ECP-A-01', 'MUST', 'server'),
        requirement('ECP-A-02', 'SHOULD', 'server'),
        requirement('ECP-A-03', 'MAY', 'server'),
        requirement('ECP-A-04', 'MUST', 'client'),
        requirement('ECP-A-05', 'MUST NOT', 'server'),
      ],
      [{ location: 'f.feature:3', requirements: ['ECP-A-01', 'ECP-Z-99'] }],
    );
    expect(result.uncovered.map((item) => item.id)).toEqual(['ECP-A-02', 'ECP-A-05']);
    expect(result.unknown).toEqual([{ id: 'ECP-Z-99', location: 'f.feature:3' }]);
    expect(result.scenariosById.get('ECP-A-01')).toBe(1);
  });
});
