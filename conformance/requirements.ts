/**
 * The requirement lines of docs/protocol.md, e.g.
 * `- [ECP-HS-03] MUST (server): The server sends ...`. The kit tags scenarios with these IDs,
 * quotes their text in failure messages and checks that every server MUST and SHOULD is covered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KIT_ROOT } from './kit-files.ts';

export type RequirementLevel = 'MUST' | 'MUST NOT' | 'SHOULD' | 'SHOULD NOT' | 'MAY';
export type RequirementParty = 'server' | 'client';

export interface Requirement {
  /** e.g. `ECP-HS-03`. */
  id: string;
  level: RequirementLevel;
  party: RequirementParty;
  text: string;
  /** 1-based line in the document, for people looking it up. */
  line: number;
  /** The numbered section it stands in: `4` or `13.4` (empty outside numbered sections). */
  section: string;
}

/** The path of docs/protocol.md in this clone or installed package. */
export const PROTOCOL_DOC_PATH = join(KIT_ROOT, 'docs', 'protocol.md');

// Longest levels first, so `MUST NOT` is not read as `MUST` followed by text.
const REQUIREMENT_LINE =
  /^- \[(ECP-[A-Z]+-\d{2})\] (MUST NOT|MUST|SHOULD NOT|SHOULD|MAY) \((server|client)\): (.+)$/;

/** `## 4. Handshake` → `4`, `### 13.4 Requirements` → `13.4`; other headings end a numbered section. */
const HEADING = /^#{1,6} (?:(\d+(?:\.\d+)*)\.? )?/;

/** Every requirement line in a Markdown text, in document order. Other lines are ignored. */
export function extractRequirements(markdown: string): Requirement[] {
  const requirements: Requirement[] = [];
  let section = '';
  markdown.split(/\r?\n/).forEach((line, index) => {
    const heading = HEADING.exec(line);
    if (heading) {
      section = heading[1] ?? '';
      return;
    }
    const match = REQUIREMENT_LINE.exec(line);
    if (!match) return;
    requirements.push({
      id: match[1]!,
      level: match[2] as RequirementLevel,
      party: match[3] as RequirementParty,
      text: match[4]!.trim(),
      line: index + 1,
      section,
    });
  });
  return requirements;
}

/** Reads and extracts docs/protocol.md (or another file). A missing file yields no requirements. */
export function loadRequirements(path = PROTOCOL_DOC_PATH): Requirement[] {
  let markdown: string;
  try {
    markdown = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return extractRequirements(markdown);
}

/** The requirements a server conformance kit must cover: a server's MUSTs and SHOULDs (not MAYs). */
export function isCheckableOnServer(requirement: Requirement): boolean {
  return requirement.party === 'server' && requirement.level !== 'MAY';
}

/** `ECP-HS-03 MUST (server): text`, the way failure messages and reports quote a requirement. */
export function formatRequirement(requirement: Requirement): string {
  return `${requirement.id} ${requirement.level} (${requirement.party}): ${requirement.text}`;
}

/** Tags that are requirement IDs (`@ECP-HS-03` → `ECP-HS-03`). */
export function requirementIdsOf(tags: readonly string[]): string[] {
  return tags.filter((tag) => /^@ECP-[A-Z]+-\d{2}$/.test(tag)).map((tag) => tag.slice(1));
}

/** `ECP-HS-03` → `HS`. */
export function areaOf(id: string): string {
  return id.split('-')[1] ?? '';
}

/**
 * The requirements one `--section` value names: a section number (`4`, `6.2`: the section and its
 * subsections), an area (`ECP-HS` or `HS`) or one requirement (`ECP-HS-03`).
 */
export function requirementsInSection(requirements: readonly Requirement[], section: string): Requirement[] {
  const wanted = section.trim();
  if (/^\d+(?:\.\d+)*$/.test(wanted)) {
    return requirements.filter((item) => item.section === wanted || item.section.startsWith(`${wanted}.`));
  }
  const upper = wanted.toUpperCase();
  if (/^ECP-[A-Z]+-\d{2}$/.test(upper)) return requirements.filter((item) => item.id === upper);
  const area = upper.replace(/^ECP-/, '');
  return requirements.filter((item) => areaOf(item.id) === area);
}
