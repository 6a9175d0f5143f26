/**
 * The sweep chart: deliveries/s and p99 latency against the swept parameter, two panels side by
 * side, drawn by vega-lite (compiled to a vega spec) and rendered to SVG by vega, headless.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SweepReport } from './report-schema.ts';

export async function sweepChartSvg(sweep: SweepReport): Promise<string> {
  // Loaded here, on first use: vega and vega-lite take about 0.3 s and 20 MB to load, which every
  // `ecp` command, the server included, would otherwise pay at start.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const data = sweep.points.flatMap(({ value, report }) => [
    {
      x: value,
      figure: 'deliveries/s',
      y: report.summary.deliveriesPerSecond.median,
      low: report.summary.deliveriesPerSecond.min,
      high: report.summary.deliveriesPerSecond.max,
    },
    {
      x: value,
      figure: 'p99 latency (ms)',
      y: report.summary.latencyP99Ms.median,
      low: report.summary.latencyP99Ms.min,
      high: report.summary.latencyP99Ms.max,
    },
  ]);
  const logX = sweep.points.length > 2 && Math.min(...sweep.points.map((p) => p.value)) > 0;
  const xField = {
    field: 'x',
    type: 'quantitative',
    title: sweep.parameter,
    scale: { type: logX ? 'log' : 'linear' },
  };
  const panel = (figure: string, color: string) => ({
    title: figure,
    width: 320,
    height: 220,
    transform: [{ filter: { field: 'figure', equal: figure } }],
    layer: [
      {
        mark: { type: 'rule', color },
        encoding: { x: xField, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        mark: { type: 'line', point: true, color },
        encoding: { x: xField, y: { field: 'y', type: 'quantitative', title: figure } },
      },
    ],
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: `ecp bench: ${sweep.label ?? sweep.target.description}`,
      subtitle: `median of runs (bars: min-max); ${sweep.machine.cores} cores, ${sweep.machine.cpuModel}, Node ${sweep.machine.node}`,
    },
    data: { values: data },
    hconcat: [panel('deliveries/s', '#1f77b4'), panel('p99 latency (ms)', '#d62728')],
    config: { font: 'sans-serif', aria: false },
  };
  const compiled = vegaLite.compile(spec as unknown as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return asDocumentSvg(await view.toSVG(), `${spec.title.text}: ${spec.title.subtitle}`);
  } finally {
    view.finalize();
  }
}

/**
 * A static chart for documents: a <title> that names it for assistive technology, and none of the
 * ARIA roles vega writes for interactive views (on <g> elements, where HTML linters refuse them).
 */
function asDocumentSvg(svg: string, title: string): string {
  const escaped = title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return svg.replace(/ role="[^"]*"/g, '').replace(/^(<svg[^>]*>)/, `$1<title>${escaped}</title>`);
}
