import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/runner.ts';

const ANNOUNCING_SERVER = fileURLToPath(
  new URL('../server-under-test/fixtures/announcing-server.mjs', import.meta.url),
);
const SCENARIOS = [
  'features/framing.feature:7',
  'features/framing.feature:14',
  'features/framing.feature:27',
];
const AFTER = '--- after the scenario ended ---\n';

/** The scenario tags (`<run id>.<n>`) of the usernames in the handshakes the server printed. */
function scenarioTags(output: string): string[] {
  const tags = [...output.matchAll(/^connection \d+ sent (.*)$/gm)].flatMap(([, line]) => {
    try {
      const { username } = JSON.parse(line as string) as { username?: unknown };
      return typeof username === 'string' ? [username.slice(username.lastIndexOf('-') + 1)] : [];
    } catch {
      return [];
    }
  });
  return [...new Set(tags)];
}

describe("a spawned server's output in a failing scenario's evidence", () => {
  it('is what the server wrote while that scenario ran, then what it wrote until the next began', async () => {
    const run = await runConformance({
      target: {
        kind: 'spawned',
        command: `"${process.execPath}" "${ANNOUNCING_SERVER}" {port}`,
        password: 'x',
      },
      locations: SCENARIOS,
      restart: 'scenario',
      timeoutMs: 300,
    });
    expect(run.scenarios.map((scenario) => scenario.status)).toEqual(['failed', 'failed', 'failed']);
    const outputs = run.scenarios.map(
      (scenario) => scenario.attachments.find((file) => file.name === 'server-output.txt')?.text,
    );
    const seen = new Set<string>();
    outputs.forEach((output, index) => {
      expect(output, `scenario ${index + 1} has server-output.txt`).toBeDefined();
      const [during = '', after] = (output as string).split(AFTER);
      // Its own handshakes, and no other scenario's.
      const tags = scenarioTags(during);
      expect(tags, `scenario ${index + 1}: ${output}`).toHaveLength(1);
      expect(seen.has(tags[0] as string)).toBe(false);
      seen.add(tags[0] as string);
      expect(scenarioTags(after ?? '')).toEqual([]);
      // Restarted before the next scenario, or stopped after the last: what the stopped server
      // wrote last comes after the mark.
      expect(after, `scenario ${index + 1}: ${output}`).toMatch(/^(.*\n)*stopping\n/);
    });
  });
});
