/**
 * The features against docs/protocol.md: every server MUST and SHOULD has a scenario, every ID a
 * scenario names exists, every scenario has one profile that fits the levels it checks, and every
 * step has a definition.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRequirements, type Requirement } from '../../conformance/requirements.ts';
import { type PlannedScenario, planScenarios } from '../../conformance/runner.ts';
import { traceRequirements } from '../../conformance/traceability.ts';

let scenarios: PlannedScenario[];
let requirements: Requirement[];

beforeAll(async () => {
  scenarios = await planScenarios('all');
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

  it('gives every scenario exactly one profile and at least one requirement', () => {
    expect(scenarios.filter((item) => item.profile === undefined).map((item) => item.location)).toEqual([]);
    expect(scenarios.filter((item) => item.requirements.length === 0).map((item) => item.location)).toEqual(
      [],
    );
  });

  it('checks MUSTs in core and SHOULDs in strict and robustness', () => {
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
