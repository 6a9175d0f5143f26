/**
 * Which scenarios a run selects: a profile, the labs up to N (or lab N alone), sections or areas of
 * docs/protocol.md, and a cucumber tag expression of the user's own, all combined with `and`.
 * Everything becomes one cucumber tag expression, so a dry run and a real run select the same.
 */
import { labTag, selectedLabs } from './labs.ts';
import { type ProfileSelection, tagExpressionFor } from './profiles.ts';
import { loadRequirements, type Requirement, requirementsInSection } from './requirements.ts';

export interface ScenarioSelection {
  profile?: ProfileSelection;
  /** A cucumber tag expression, e.g. `@ECP-HS-03 or @ECP-KX-02`. */
  tags?: string;
  /** Lab N and the labs before it. */
  lab?: number;
  /** With `lab`: lab N alone. */
  onlyLab?: boolean;
  /** Section numbers (`4`, `6.2`), areas (`ECP-HS`, `HS`) or requirement IDs; any of them. */
  sections?: readonly string[];
}

/**
 * The tag expression for a selection. Throws a RangeError for a lab that does not exist or a
 * section that holds no requirement (reported as a usage error).
 */
export function selectionExpression(
  selection: ScenarioSelection,
  requirements: readonly Requirement[] = loadRequirements(),
): string {
  // `all` puts no condition on the profile, so an instructor's scenarios without one run too
  // (every scenario of the kit has exactly one).
  const profile = selection.profile ?? 'all';
  const parts = profile === 'all' ? [] : [tagExpressionFor(profile)];
  if (selection.lab !== undefined) {
    const labs = selectedLabs(selection.lab, selection.onlyLab);
    parts.push(`(${labs.map((item) => labTag(item.number)).join(' or ')})`);
  }
  if (selection.sections && selection.sections.length > 0) {
    const ids = new Set<string>();
    for (const section of selection.sections) {
      const found = requirementsInSection(requirements, section);
      if (found.length === 0) {
        throw new RangeError(
          `no requirement of docs/protocol.md is in section '${section}' (use a section number such as 4 or 6.2, an area such as ECP-HS, or an ID such as ECP-HS-03)`,
        );
      }
      for (const item of found) ids.add(item.id);
    }
    parts.push(`(${[...ids].map((id) => `@${id}`).join(' or ')})`);
  }
  if (selection.tags?.trim()) parts.push(`(${selection.tags.trim()})`);
  return parts.join(' and ');
}

/** For people: `profile all · labs 1-3 · section 4 · tags @x`. */
export function describeSelection(selection: ScenarioSelection): string {
  const parts = [`profile ${selection.profile ?? 'all'}`];
  if (selection.lab !== undefined) {
    parts.push(selection.onlyLab || selection.lab === 1 ? `lab ${selection.lab}` : `labs 1-${selection.lab}`);
  }
  if (selection.sections && selection.sections.length > 0) {
    parts.push(`section ${selection.sections.join(', ')}`);
  }
  if (selection.tags?.trim()) parts.push(`tags ${selection.tags.trim()}`);
  return parts.join(' · ');
}
