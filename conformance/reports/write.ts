/**
 * Writes the reports cucumber does not: summary.json, summary.md, and the evidence of each failing
 * scenario (one file per client transcript, the server's output) under evidence/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Attempts } from '../repeats.ts';
import type { Requirement } from '../requirements.ts';
import type { ScenarioResult } from '../results.ts';
import type { ConformanceRun } from '../runner.ts';
import { formatMarkdown } from './markdown.ts';
import { buildSummary, type ConformanceSummary, isFailure } from './summary.ts';

export const REPORT_FILES = {
  summaryJson: 'summary.json',
  summaryMarkdown: 'summary.md',
  html: 'cucumber.html',
  junit: 'junit.xml',
} as const;

export async function writeReports(
  outDir: string,
  run: ConformanceRun,
  requirements: readonly Requirement[],
  attempts?: Attempts,
): Promise<ConformanceSummary> {
  const evidence = new Map<ScenarioResult, string[]>();
  let failureNumber = 0;
  for (const result of run.scenarios) {
    if (!isFailure(result.status) || result.attachments.length === 0) continue;
    failureNumber += 1;
    const folder = join('evidence', `${String(failureNumber).padStart(2, '0')}-${slug(result.name)}`);
    await mkdir(join(outDir, folder), { recursive: true });
    const files: string[] = [];
    for (const attachment of result.attachments) {
      const file = join(folder, safeFileName(attachment.name));
      await writeFile(join(outDir, file), attachment.text);
      files.push(file);
    }
    evidence.set(result, files);
  }
  const summary = buildSummary(run, requirements, evidence, attempts);
  await writeFile(join(outDir, REPORT_FILES.summaryJson), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(outDir, REPORT_FILES.summaryMarkdown), formatMarkdown(summary));
  return summary;
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'scenario'
  );
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_') || 'attachment.txt';
}
