/**
 * The Markdown summary: the verdict line per profile, a table per profile, then each failure with
 * its requirement, expected and actual, and links to the evidence. Made to be pasted into a
 * grade sheet or a pull request.
 */

import { findLab } from '../labs.ts';
import { PROFILES, type Profile } from '../profiles.ts';
import {
  blockedReason,
  type ConformanceSummary,
  isFailure,
  profileLine,
  type SummaryScenario,
} from './summary.ts';

const MARK: Record<SummaryScenario['status'], string> = {
  passed: '✅ pass',
  failed: '❌ fail',
  skipped: '⏭️ skip',
  undefined: '❌ undefined step',
  pending: '❌ pending',
  ambiguous: '❌ ambiguous step',
};

export function formatMarkdown(summary: ConformanceSummary): string {
  const { totals } = summary;
  const lines = [
    `# ECP conformance: ${summary.verdict === 'pass' ? 'PASS' : 'FAIL'}`,
    '',
    `**${profileLine(summary.profiles)}**`,
    '',
    `- Target: ${summary.target.description} (${summary.target.kind})`,
    `- Selection: profile ${summary.profile}${summary.lab === null ? '' : summary.onlyLab ? `, lab ${summary.lab} alone` : `, labs 1 to ${summary.lab}`}${summary.sections.length > 0 ? `, section ${summary.sections.join(', ')}` : ''}${summary.tags ? `, tags \`${summary.tags}\`` : ''}`,
    `- Scenarios: ${totals.total} (${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped) in ${(summary.durationMs / 1000).toFixed(1)} s`,
    `- Started: ${summary.startedAt}; timeout per expectation ${summary.timeoutMs} ms${summary.seed !== undefined ? `; seed ${summary.seed} (\`--seed ${summary.seed}\` sends the same random inputs again)` : ''}`,
    ...(summary.repeat > 1
      ? [
          `- Repeated: each scenario ran ${summary.repeat} times; ${summary.flaky} passed only sometimes (flaky)`,
        ]
      : []),
    `- Limits assumed: ${Object.entries(summary.limits)
      .map(([name, value]) => `${name}=${value}`)
      .join(', ')}`,
    '',
  ];
  for (const { reason, scenarios } of summary.blocked) {
    lines.push(
      `> **Prerequisite failed: ${escapeText(reason)}.** ${scenarios} later scenarios that need it were ended at once (blocked); the failures below say why it failed.`,
      '',
    );
  }
  lines.push(...labTable(summary));
  for (const profile of PROFILES) lines.push(...profileTable(summary, profile));
  const failures = summary.scenarios.filter(
    (item) => isFailure(item.status) && blockedReason(item.failure) === undefined,
  );
  if (failures.length > 0) {
    lines.push('## Failures', '');
    failures.forEach((item, index) => {
      lines.push(
        `### ${index + 1}. ${escapeText(item.name)}`,
        '',
        `\`${item.location}\` · profile ${item.profile ?? 'none'} · ${item.requirements.join(', ') || 'no requirement'}`,
        '',
        `Step: \`${item.failure?.step ?? '?'}\``,
        '',
        '```text',
        item.failure?.message ?? '',
        '```',
        '',
      );
      if (item.evidence.length > 0) {
        lines.push(
          `Evidence: ${item.evidence.map((file) => `[${file}](${encodeURI(file)})`).join(', ')}`,
          '',
        );
      }
    });
  }
  const skipped = summary.scenarios.filter((item) => item.status === 'skipped' && item.notes.length > 0);
  if (skipped.length > 0) {
    lines.push('## Not checked on this target', '');
    for (const item of skipped)
      lines.push(`- ${escapeText(item.name)} (\`${item.location}\`): ${item.notes.join(' ')}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function profileTable(summary: ConformanceSummary, profile: Profile): string[] {
  const scenarios = summary.scenarios.filter((item) => item.profile === profile);
  if (scenarios.length === 0) return [];
  const { passed, total, skipped } = summary.profiles[profile];
  return [
    `## ${profile}: ${passed}/${total - skipped}`,
    '',
    `| Result | Lab | Requirements | Scenario | Location | ms |${summary.repeat > 1 ? ' Passed |' : ''}`,
    `|---|---:|---|---|---|---:|${summary.repeat > 1 ? '---:|' : ''}`,
    ...scenarios.map(
      (item) =>
        `| ${MARK[item.status]} | ${item.lab ?? ''} | ${item.requirements.join(' ')} | ${escapeText(item.name)} | \`${item.location}\` | ${item.durationMs} |${item.repeats ? ` ${item.repeats.passed}/${item.repeats.attempts.length} |` : ''}`,
    ),
    '',
  ];
}

/** The tally per lab, with the page each lab's failures send a student to. */
function labTable(summary: ConformanceSummary): string[] {
  if (summary.labs.length === 0) return [];
  return [
    '## By lab',
    '',
    '| Lab | Title | Passed | Failed | Skipped | Page |',
    '|---:|---|---:|---:|---:|---|',
    ...summary.labs.map((item) => {
      const page = findLab(item.lab)?.page;
      return `| ${item.lab} | ${escapeText(item.title)} | ${item.passed}/${item.total - item.skipped} | ${item.failed} | ${item.skipped} | ${page ? `\`${page}\`` : ''} |`;
    }),
    '',
  ];
}

function escapeText(text: string): string {
  return text.replace(/[|\\`*_[\]<>]/g, (char) => `\\${char}`);
}
