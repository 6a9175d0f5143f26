/**
 * Which requirements of docs/protocol.md the features check. Every MUST and SHOULD of a party needs
 * at least one scenario of that party's features; every requirement a scenario names must exist.
 */
import type { Requirement, RequirementParty } from './requirements.ts';

export interface Traced {
  location: string;
  requirements: readonly string[];
}

export interface Traceability {
  /** The party's MUSTs and SHOULDs that no scenario names. */
  uncovered: Requirement[];
  /** IDs that scenarios name but docs/protocol.md does not define. */
  unknown: { id: string; location: string }[];
  /** Scenarios per requirement ID. */
  scenariosById: Map<string, number>;
}

export function traceRequirements(
  requirements: readonly Requirement[],
  scenarios: readonly Traced[],
  party: RequirementParty = 'server',
): Traceability {
  const defined = new Set(requirements.map((item) => item.id));
  const scenariosById = new Map<string, number>();
  const unknown: Traceability['unknown'] = [];
  for (const scenario of scenarios) {
    for (const id of scenario.requirements) {
      scenariosById.set(id, (scenariosById.get(id) ?? 0) + 1);
      if (!defined.has(id)) unknown.push({ id, location: scenario.location });
    }
  }
  const uncovered = requirements.filter(
    (item) => item.party === party && item.level !== 'MAY' && !scenariosById.has(item.id),
  );
  return { uncovered, unknown, scenariosById };
}
