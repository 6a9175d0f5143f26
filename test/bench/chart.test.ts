import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sweepChartSvg } from '../../bench/chart.ts';
import type { SweepReport } from '../../bench/report-schema.ts';

// A real sweep report: the open-loop sweep committed with docs/benchmarks.md.
const sweep = JSON.parse(
  readFileSync(new URL('../../docs/bench/sweep-clients-open-loop.json', import.meta.url), 'utf8'),
) as SweepReport;

describe('sweepChartSvg', () => {
  it('draws deliveries/s and p99 latency against the swept parameter, as a titled static SVG', async () => {
    const svg = await sweepChartSvg(sweep);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/^<svg[^>]*><title>ecp bench: reference server \(own process\): open loop/);
    expect(svg).toContain('>deliveries/s</text>');
    expect(svg).toContain('>p99 latency (ms)</text>');
    expect(svg).toContain('>clients</text>');
    expect(svg).not.toMatch(/ role="/);
    // One point per swept value in each panel.
    expect(svg.match(/<path transform="translate\(/g)?.length).toBe(2 * sweep.points.length);
  });
});
