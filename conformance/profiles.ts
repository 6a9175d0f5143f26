/**
 * Profiles are disjoint sets of scenarios, each named by one tag:
 * - `core`: the MUSTs, interoperable behaviour the original prototype already has;
 * - `strict`: the SHOULDs about order and wording, as the prototype does them;
 * - `robustness`: the hardening SHOULDs the prototype lacks (limits, timeouts, bad input).
 * `all` selects every profile. Each is reported separately, so a server can be strict-clean but
 * not yet robust.
 */
export const PROFILES = ['core', 'strict', 'robustness'] as const;
export type Profile = (typeof PROFILES)[number];
export type ProfileSelection = Profile | 'all';
export const PROFILE_SELECTIONS: readonly ProfileSelection[] = [...PROFILES, 'all'];

/** The one profile among a scenario's tags, or undefined when it has none or several. */
export function profileOf(tags: readonly string[]): Profile | undefined {
  const found = PROFILES.filter((profile) => tags.includes(`@${profile}`));
  return found.length === 1 ? found[0] : undefined;
}

/** The cucumber tag expression selecting a profile, combined with the user's own `--tags`. */
export function tagExpressionFor(selection: ProfileSelection, tags?: string): string {
  const profilePart =
    selection === 'all' ? PROFILES.map((profile) => `@${profile}`).join(' or ') : `@${selection}`;
  return tags?.trim() ? `(${profilePart}) and (${tags.trim()})` : `(${profilePart})`;
}
