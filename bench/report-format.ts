/** The bench report for people: a text table for the terminal, Markdown for `--md`. */
import {
  type BenchReport,
  type FigureSummary,
  HEADLINE_FIGURES,
  type HeadlineFigure,
  HTTP_HEADLINE_FIGURES,
  type HttpBenchReport,
  type HttpEndpointResult,
  type HttpHeadlineFigure,
  type HttpRunResult,
  OTHER_LOAD_WARNING_CORES,
  type RunResult,
  type SweepReport,
} from './report-schema.ts';

const FIGURES = Object.keys(HEADLINE_FIGURES) as HeadlineFigure[];

export function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function describeLoad(report: BenchReport): string {
  const c = report.config;
  const loop =
    c.rate > 0
      ? `open loop at ${c.rate.toLocaleString('en-US')} msg/s`
      : `closed loop (${c.inFlight} in flight per sender)`;
  return (
    `${c.clients} clients, ${c.senders} senders, ${loop}, ${c.size}-byte texts, ` +
    `${c.durationSeconds} s window after ${c.warmupSeconds} s warm-up, ${c.runs} run${c.runs === 1 ? '' : 's'}, ` +
    `${c.workers} load worker${c.workers === 1 ? '' : 's'}`
  );
}

/** The text table of headline figures: a label, then median, min and max, in aligned columns. */
function summaryTable(rows: string[][]): string[] {
  const table = [['', 'median', 'min', 'max'], ...rows];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('   ')
      .trimEnd(),
  );
}

function cells(summary: FigureSummary, digits: number): [string, string, string] {
  return [
    formatNumber(summary.median, digits),
    formatNumber(summary.min, digits),
    formatNumber(summary.max, digits),
  ];
}

/** Warnings a reader must not miss: generator-bound runs, integrity failures, disconnects. */
export function warnings(runs: RunResult[]): string[] {
  const out: string[] = [];
  for (const run of runs) {
    const tag = `run ${run.run}`;
    if (run.generator.bound) {
      out.push(
        `${tag}: generator-bound, figures are a lower bound for the server (${run.generator.reasons.join('; ')})`,
      );
    }
    if (run.integrity.failures > 0) {
      out.push(
        `${tag}: ${run.integrity.failures} of ${run.integrity.verified} verified deliveries failed (${run.integrity.failureSamples[0] ?? ''})`,
      );
    }
    if (run.clientsDisconnected > 0)
      out.push(`${tag}: ${run.clientsDisconnected} clients were disconnected during the run`);
    if (!run.connect.keysAgree) out.push(`${tag}: clients received different room keys`);
    const other = run.server.otherCpuCores;
    if (other !== null && other > OTHER_LOAD_WARNING_CORES) {
      out.push(
        `${tag}: the machine was not quiet: ${other.toFixed(2)} cores busy with other work during the window`,
      );
    }
    if (run.deliveries.unrecognised > 0)
      out.push(`${tag}: ${run.deliveries.unrecognised} deliveries named no sender of this run`);
  }
  return out;
}

/** A room at several endpoints: each one and its share of the clients, `tcp://... 50 clients`. */
function describeEndpoints(report: BenchReport): string | undefined {
  const { endpoints } = report.target;
  if (endpoints === undefined) return undefined;
  return endpoints
    .map(({ url, clients }) => `${url} ${clients} client${clients === 1 ? '' : 's'}`)
    .join(', ');
}

function serverNote(report: BenchReport): string | undefined {
  const shared = report.runs.some((r) => r.server.sharedWithGenerator);
  if (shared) return 'The server is embedded: its CPU and RSS figures include the load generator.';
  if (report.runs.every((r) => r.server.pid === null)) {
    return report.target.endpoints === undefined
      ? 'The server process was not found on this machine: no server CPU or RSS.'
      : 'No one process on this machine serves every endpoint: no server CPU or RSS.';
  }
  return undefined;
}

export function formatText(report: BenchReport): string {
  const endpoints = describeEndpoints(report);
  const lines = [
    `ecp bench: ${report.target.description}`,
    ...(endpoints === undefined ? [] : [`clients per endpoint: ${endpoints}`]),
    describeLoad(report),
    '',
  ];
  lines.push(
    ...summaryTable(
      FIGURES.map((figure) => {
        const { label, digits } = HEADLINE_FIGURES[figure];
        return [label, ...cells(report.summary[figure], digits)];
      }),
    ),
  );
  lines.push('');
  for (const run of report.runs) {
    const d = run.deliveries;
    const l = run.latency.perDelivery;
    lines.push(
      `run ${run.run}: ${formatNumber(d.deliveriesPerSecond, 0)} deliveries/s (${formatNumber(d.relayedPerSecond, 0)} relayed, echoes excluded), ` +
        `lost ${d.lost}, dup ${d.duplicated}, reordered ${d.reordered}; latency p50 ${l.p50Ms} p90 ${l.p90Ms} p99 ${l.p99Ms} ` +
        `p99.9 ${l.p999Ms} max ${l.maxMs} ms; clients ${formatNumber(run.fairness.clientDeliveriesPerSecond.min, 0)}/` +
        `${formatNumber(run.fairness.clientDeliveriesPerSecond.median, 0)}/${formatNumber(run.fairness.clientDeliveriesPerSecond.max, 0)} ` +
        `deliveries/s (min/median/max); handshake p99 ${run.connect.handshakeMs.p99Ms} ms; generator ELU ` +
        `${run.generator.eventLoopUtilization.join('/')}, process CPU ${run.generator.processCpuCores} cores, machine ${run.server.machineCpuCores.toFixed(2)} cores (other work ${run.server.otherCpuCores?.toFixed(2) ?? '?'})`,
    );
  }
  const note = serverNote(report);
  if (note) lines.push('', note);
  const warned = warnings(report.runs);
  if (warned.length > 0) lines.push('', ...warned.map((w) => `WARNING ${w}`));
  return `${lines.join('\n')}\n`;
}

export function formatMarkdown(report: BenchReport): string {
  const m = report.machine;
  const endpoints = describeEndpoints(report);
  const lines = [
    `# ecp bench: ${report.label ?? report.target.description}`,
    '',
    `- Target: ${report.target.description} (${report.target.kind})`,
    ...(endpoints === undefined ? [] : [`- Clients per endpoint: ${endpoints}`]),
    `- Load: ${describeLoad(report)}`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, ${m.platform}`,
    `- Date: ${report.createdAt}`,
    '',
    '| figure | median | min | max |',
    '|---|---:|---:|---:|',
    ...FIGURES.map((figure) => {
      const { label, digits } = HEADLINE_FIGURES[figure];
      return `| ${label} | ${cells(report.summary[figure], digits).join(' | ')} |`;
    }),
    '',
    '| run | deliveries/s | relayed/s | lost | dup | reord | p50 ms | p99 ms | p99.9 ms | max ms | last-recipient p99 ms | handshakes/s | generator ELU | bound |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...report.runs.map((r) => {
      const l = r.latency.perDelivery;
      return `| ${r.run} | ${formatNumber(r.deliveries.deliveriesPerSecond, 0)} | ${formatNumber(r.deliveries.relayedPerSecond, 0)} | ${r.deliveries.lost} | ${r.deliveries.duplicated} | ${r.deliveries.reordered} | ${l.p50Ms} | ${l.p99Ms} | ${l.p999Ms} | ${l.maxMs} | ${r.latency.toLastRecipient.p99Ms} | ${formatNumber(r.connect.handshakesPerSecond, 0)} | ${r.generator.eventLoopUtilization.join(' / ')} | ${r.generator.bound ? 'yes' : 'no'} |`;
    }),
  ];
  const note = serverNote(report);
  if (note) lines.push('', note);
  const warned = warnings(report.runs);
  if (warned.length > 0) lines.push('', ...warned.map((w) => `- **Warning** ${w}`));
  return `${lines.join('\n')}\n`;
}

export function formatSweepText(sweep: SweepReport): string {
  const header = [
    sweep.parameter,
    'deliveries/s',
    'p99 ms',
    'last p99 ms',
    'lost',
    'handshakes/s',
    'server RSS MB',
    'bound',
  ];
  const rows = sweep.points.map(({ value, report }) => [
    String(value),
    formatNumber(report.summary.deliveriesPerSecond.median, 0),
    formatNumber(report.summary.latencyP99Ms.median, 2),
    formatNumber(report.summary.lastRecipientP99Ms.median, 2),
    formatNumber(report.summary.lost.median, 0),
    formatNumber(report.summary.handshakesPerSecond.median, 0),
    formatNumber(report.summary.serverPeakRssMB.median, 1),
    report.runs.some((r) => r.generator.bound) ? 'yes' : 'no',
  ]);
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const body = table.map((row) => row.map((cell, i) => cell.padStart(widths[i]!)).join('   '));
  return `ecp bench sweep over ${sweep.parameter}: ${sweep.target.description}\n(medians over runs)\n${body.join('\n')}\n`;
}

export function formatSweepMarkdown(sweep: SweepReport, chartPath?: string): string {
  const lines = [
    `# ecp bench sweep over ${sweep.parameter}`,
    '',
    `- Target: ${sweep.target.description}`,
    `- Machine: ${sweep.machine.cpuModel}, ${sweep.machine.cores} cores, Node ${sweep.machine.node}`,
    sweep.points[0]
      ? `- Load at each point: ${describeLoad(sweep.points[0].report)} (with ${sweep.parameter} varied)`
      : '',
    '',
    ...(chartPath ? [`![deliveries/s and p99 latency against ${sweep.parameter}](${chartPath})`, ''] : []),
    `| ${sweep.parameter} | deliveries/s | p99 ms | last-recipient p99 ms | lost | handshakes/s | server peak RSS MB | generator-bound |`,
    '|---:|---:|---:|---:|---:|---:|---:|---|',
    ...sweep.points.map(
      ({ value, report: r }) =>
        `| ${value} | ${formatNumber(r.summary.deliveriesPerSecond.median, 0)} | ${formatNumber(r.summary.latencyP99Ms.median, 2)} | ${formatNumber(r.summary.lastRecipientP99Ms.median, 2)} | ${formatNumber(r.summary.lost.median, 0)} | ${formatNumber(r.summary.handshakesPerSecond.median, 0)} | ${formatNumber(r.summary.serverPeakRssMB.median, 1)} | ${r.runs.some((run) => run.generator.bound) ? 'yes' : 'no'} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function httpCells(report: HttpBenchReport): string[][] {
  return (Object.keys(HTTP_HEADLINE_FIGURES) as HttpHeadlineFigure[]).map((figure) => {
    const { label, digits } = HTTP_HEADLINE_FIGURES[figure];
    return [label, ...cells(report.summary[figure], digits)];
  });
}

export function describeHttpLoad(report: HttpBenchReport): string {
  const c = report.config;
  const loop = c.rate > 0 ? `open loop at ${c.rate.toLocaleString('en-US')} announcements/s` : 'closed loop';
  return (
    `POST /announce over ${c.connections} connections (${loop}), ${c.clients} ECP clients counting notices, ` +
    `GET /metrics and the page over ${c.getConnections} connections each, ${c.durationSeconds} s window, ` +
    `${c.runs} run${c.runs === 1 ? '' : 's'}`
  );
}

function httpRunLine(run: HttpRunResult): string {
  const a = run.announce;
  const n = run.notices;
  const get = (name: string, result: HttpEndpointResult | null) =>
    result === null
      ? ''
      : `; ${name} ${formatNumber(result.requestsPerSecond, 0)} req/s p99 ${result.latency.p99Ms} ms${result.non2xx > 0 ? ` (${result.non2xx} non-2xx)` : ''}`;
  return (
    `run ${run.run}: announce ${formatNumber(a.requestsPerSecond, 0)} req/s, latency p50 ${a.latency.p50Ms} p90 ${a.latency.p90Ms} ` +
    `p99 ${a.latency.p99Ms} max ${a.latency.maxMs} ms, non-2xx ${a.non2xx}, errors ${a.errors}; ` +
    `notices ${formatNumber(n.deliveriesPerSecond, 0)} deliveries/s, ${n.delivered} of ${n.expected} delivered (lost ${n.lost})` +
    `${get('GET /metrics', run.metrics)}${get('GET page', run.page)}; server CPU ${run.server.cpuCores ?? '?'} cores, ` +
    `bench process CPU ${run.generator.processCpuCores} cores, load average ${run.generator.loadAverage1m}`
  );
}

function httpWarnings(report: HttpBenchReport): string[] {
  const out: string[] = [];
  for (const run of report.runs) {
    if (run.notices.lost > 0) out.push(`run ${run.run}: ${run.notices.lost} notices were not delivered`);
    if (run.notices.clientsDisconnected > 0)
      out.push(`run ${run.run}: ${run.notices.clientsDisconnected} counting clients were disconnected`);
    for (const result of [run.announce, run.metrics, run.page]) {
      if (result !== null && (result.non2xx > 0 || result.errors > 0))
        out.push(`run ${run.run}: ${result.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
  }
  return out;
}

export function formatHttpText(report: HttpBenchReport): string {
  const lines = [
    `ecp bench http: ${report.target.description}, admin API ${report.target.admin}`,
    describeHttpLoad(report),
    '',
  ];
  lines.push(...summaryTable(httpCells(report)));
  lines.push('', ...report.runs.map(httpRunLine));
  if (report.notes.length > 0) lines.push('', ...report.notes);
  const warned = httpWarnings(report);
  if (warned.length > 0) lines.push('', ...warned.map((w) => `WARNING ${w}`));
  return `${lines.join('\n')}\n`;
}

export function formatHttpMarkdown(report: HttpBenchReport): string {
  const m = report.machine;
  const lines = [
    `# ecp bench http: ${report.label ?? report.target.description}`,
    '',
    `- Target: ${report.target.description}, admin API ${report.target.admin}`,
    `- Load: ${describeHttpLoad(report)}`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${m.platform}`,
    `- Date: ${report.createdAt}`,
    '',
    '| figure | median | min | max |',
    '|---|---:|---:|---:|',
    ...httpCells(report).map((row) => `| ${row.join(' | ')} |`),
    '',
    ...report.runs.map((run) => `- ${httpRunLine(run)}`),
  ];
  if (report.notes.length > 0) lines.push('', ...report.notes.map((text) => `- ${text}`));
  const warned = httpWarnings(report);
  if (warned.length > 0) lines.push('', ...warned.map((w) => `- **Warning** ${w}`));
  return `${lines.join('\n')}\n`;
}
