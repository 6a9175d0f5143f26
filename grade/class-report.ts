/**
 * `index.html`: the class report, as Autobahn's grid is for WebSocket implementations. One row per
 * student, one column per lab; each cell links to that lab's conformance report for that student
 * (cucumber.html, with every scenario's steps and transcripts), and each student's section lists
 * the scenarios that failed or were flaky with their evidence. One self-contained file: no
 * server, no network, sortable by any column with a few lines of inline script.
 */
import type { FuzzGrade, GradesFile, LabGrade, StudentGrade } from './model.ts';

export function formatClassReport(grades: GradesFile): string {
  const { labs, students, options } = grades;
  const verdictCounts = new Map<string, number>();
  for (const student of students)
    verdictCounts.set(student.verdict, (verdictCounts.get(student.verdict) ?? 0) + 1);
  // Rows of different kinds have different labs, so a different possible total.
  const possibles = new Set(students.map((student) => student.possible));
  const possible = possibles.size === 1 ? [...possibles][0]! : undefined;
  const hasClients = students.some((student) => student.kind === 'client');
  const servers = students.length - students.filter((student) => student.kind === 'client').length;
  const clients = students.length - servers;
  const meta = [
    [
      servers > 0 || !hasClients ? `${servers} server${servers === 1 ? '' : 's'}` : '',
      clients > 0 ? `${clients} client${clients === 1 ? '' : 's'}` : '',
    ]
      .filter(Boolean)
      .join(', '),
    `labs ${labs.map((lab) => lab.number).join(', ')}`,
    `timeout ${options.timeoutMs / 1000} s`,
    Object.keys(options.limits).length > 0
      ? `limits ${Object.entries(options.limits)
          .map(([name, value]) => `${name}=${value}`)
          .join(', ')}`
      : 'the specification’s limits',
    options.repeat > 1
      ? `failures rerun up to ${options.repeat - 1}×, flaky counts ${options.flakyCredit}`
      : '',
    `cap ${options.capSeconds} s per server`,
    options.fuzz ? `fuzz ${options.fuzz.seconds} s per server, seed ${options.fuzz.seed}` : '',
    options.shard ? `shard ${options.shard.index}/${options.shard.count}` : '',
    `generated ${grades.generatedAt}`,
  ].filter(Boolean);

  const head = [
    th('#', 'number'),
    th('Student', 'text'),
    th('Verdict', 'text'),
    th(`Total${possible === undefined ? '' : ` <small>of ${fmt(possible)}</small>`}`, 'number'),
    ...labs.map((lab) =>
      th(
        `Lab ${lab.number} <small>${escapeHtml(lab.title)}</small>`,
        'number',
        `${lab.scenarios} scenarios, ${lab.weight} points`,
      ),
    ),
    options.fuzz
      ? th('Fuzz', 'text', 'ecp fuzz: generated concurrent histories; not counted in the total')
      : '',
  ].join('');

  const rows = students
    .map((student) => {
      const cells = labs.map((lab) =>
        lab.party === student.kind
          ? labCell(
              student.labs.find((item) => item.lab === lab.number),
              student,
            )
          : `<td data-sort="-2" class="cell other" title="a ${lab.party} lab; this row is a ${student.kind}"></td>`,
      );
      const kind = hasClients ? ` <small>${student.kind}</small>` : '';
      const of = possible === undefined ? ` <small>of ${fmt(student.possible)}</small>` : '';
      return (
        `<tr><td data-sort="${student.row}">${student.row}</td>` +
        `<td data-sort="${escapeHtml(student.student)}"><a href="#${anchor(student)}">${escapeHtml(student.student)}</a>${kind}</td>` +
        `<td data-sort="${student.verdict}"><span class="verdict ${student.verdict}">${student.verdict}</span></td>` +
        `<td data-sort="${student.total}" class="total">${fmt(student.total)}${of}</td>${cells.join('')}` +
        `${options.fuzz ? fuzzCell(student.fuzz) : ''}</tr>`
      );
    })
    .join('\n');

  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  const foot =
    `<tr><td></td><td>class mean</td><td></td><td class="total">${fmt(mean(students.map((s) => s.total)))}</td>` +
    labs
      .map(
        (lab) =>
          `<td>${fmt(mean(students.filter((s) => s.kind === lab.party).map((s) => s.labs.find((item) => item.lab === lab.number)?.points ?? 0)))}</td>`,
      )
      .join('') +
    `${options.fuzz ? '<td></td>' : ''}</tr>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ECP labs: class report</title>
<style>${STYLE}</style>
</head>
<body>
<h1>ECP labs: class report</h1>
<p class="meta">${meta.map(escapeHtml).join(' · ')}</p>
<p class="meta">${[...verdictCounts].map(([verdict, count]) => `<span class="verdict ${verdict}">${verdict}</span> ${count}`).join(' ')}</p>
<p class="meta">Click a column to sort. A cell is the lab’s points (its scenarios passed of those checked);
it opens that lab’s conformance report for the student. Each student’s section below lists what failed, with the evidence.</p>
<table id="grid">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
<tfoot>${foot}</tfoot>
</table>
<h2>Students</h2>
${students.map((student) => studentSection(student, grades)).join('\n')}
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}

/** The fuzz cell: clean (green), the rule a history broke with a link to it (red), or why it did not run. */
function fuzzCell(fuzz: FuzzGrade | undefined): string {
  if (!fuzz) return '<td data-sort="" class="cell none" title="not fuzzed">–</td>';
  if (fuzz.error)
    return `<td data-sort="error" class="cell none" title="${escapeHtml(fuzz.error)}">not run</td>`;
  if (!fuzz.violation) {
    return `<td data-sort="clean" class="cell" style="background:hsl(120,65%,86%)" title="${fuzz.histories} histories in ${fuzz.seconds} s">clean</td>`;
  }
  const label = escapeHtml(fuzz.violation.requirement);
  const link = fuzz.feature ? `<a href="${escapeHtml(fuzz.feature)}">${label}</a>` : label;
  return `<td data-sort="${label}" class="cell" style="background:hsl(0,65%,86%)" title="${escapeHtml(fuzz.violation.text)}">${link}</td>`;
}

function th(label: string, type: 'number' | 'text', title?: string): string {
  return `<th scope="col" data-type="${type}"${title ? ` title="${escapeHtml(title)}"` : ''} tabindex="0">${label}</th>`;
}

function labCell(lab: LabGrade | undefined, student: StudentGrade): string {
  if (!lab || lab.status === 'not-run' || lab.status === 'did-not-start') {
    const why = lab?.status === 'did-not-start' ? 'did not start' : 'not run';
    return `<td data-sort="-1" class="cell none" title="${why}">–</td>`;
  }
  const share = lab.weight > 0 ? lab.points / lab.weight : 0;
  const checked = lab.total - lab.skipped;
  const detail = `${lab.passed}/${checked}${lab.flaky > 0 ? ` · ${lab.flaky} flaky` : ''}`;
  const title = `${lab.passed} passed, ${lab.failed} failed, ${lab.flaky} flaky, ${lab.skipped} not checkable${lab.crash ? `; the server ${lab.crash}` : ''}`;
  const label = `${fmt(lab.points)}${lab.status === 'crashed' ? ' <span class="crash" aria-label="crashed">⚠</span>' : ''}`;
  // cucumber's report when it was kept; otherwise the student's section below, with its failures.
  const href = lab.reports?.html ?? `#${anchor(student)}`;
  const body = `<a href="${escapeHtml(href)}">${label}</a>`;
  return (
    `<td data-sort="${lab.points}" class="cell" style="background:hsl(${Math.round(share * 120)},65%,86%)" title="${escapeHtml(title)}">` +
    `${body}<small>${detail}</small></td>`
  );
}

function studentSection(student: StudentGrade, grades: GradesFile): string {
  const facts = [
    `<span class="verdict ${student.verdict}">${student.verdict}</span>`,
    `${fmt(student.total)} of ${fmt(student.possible)} points`,
    `${(student.durationMs / 1000).toFixed(1)} s`,
  ];
  const notes =
    student.notes.length > 0
      ? `<ul class="notes">${student.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`
      : '';
  const output = student.output
    ? `<p>What the server printed: <a href="${escapeHtml(student.output)}">${escapeHtml(student.output)}</a></p>`
    : '';
  const labs = student.labs
    .map((lab) => {
      const title = grades.labs.find((item) => item.number === lab.lab)?.title ?? '';
      const summary = `Lab ${lab.lab} ${escapeHtml(title)}: ${fmt(lab.points)}/${fmt(lab.weight)} · ${labStatusText(lab)}`;
      const links = lab.reports
        ? `<p class="links">${lab.reports.html ? `<a href="${escapeHtml(lab.reports.html)}">every scenario (cucumber.html)</a> · ` : ''}<a href="${escapeHtml(lab.reports.markdown)}">summary.md</a> · <a href="${escapeHtml(lab.reports.summary)}">summary.json</a></p>`
        : '';
      const problems = lab.scenarios.filter(
        (scenario) => scenario.outcome === 'failed' || scenario.outcome === 'flaky',
      );
      const list =
        problems.length === 0
          ? ''
          : `<ul class="scenarios">${problems
              .map(
                (scenario) =>
                  `<li><span class="outcome ${scenario.outcome}">${scenario.outcome}</span> ${escapeHtml(scenario.name)} ` +
                  `<small>${escapeHtml(scenario.requirements.join(' '))} · ${escapeHtml(scenario.location)}${scenario.attempts.length > 1 ? ` · attempts: ${escapeHtml(scenario.attempts.join(', '))}` : ''}</small>` +
                  (scenario.failure ? `<pre>${escapeHtml(scenario.failure)}</pre>` : '') +
                  (scenario.evidence?.length
                    ? `<p class="evidence">Evidence: ${scenario.evidence.map((file) => `<a href="${escapeHtml(file)}">${escapeHtml(file.split('/').pop() ?? file)}</a>`).join(' · ')}</p>`
                    : '') +
                  '</li>',
              )
              .join('')}</ul>`;
      const open = problems.length > 0 && problems.length <= 3 ? ' open' : '';
      return `<details${open}><summary>${summary}</summary>${links}${list}</details>`;
    })
    .join('\n');
  return (
    `<section id="${anchor(student)}"><h3>${student.row}. ${escapeHtml(student.student)}</h3>` +
    `<p>${facts.join(' · ')}</p>${notes}<p class="command"><code>${escapeHtml(student.command)}</code> in <code>${escapeHtml(student.dir)}</code></p>` +
    `${output}${labs}</section>`
  );
}

function labStatusText(lab: LabGrade): string {
  if (lab.status === 'not-run') return 'not run';
  if (lab.status === 'did-not-start') return 'the server did not start';
  const parts = [`${lab.passed} passed`, `${lab.failed} failed`];
  if (lab.flaky > 0) parts.push(`${lab.flaky} flaky`);
  if (lab.skipped > 0) parts.push(`${lab.skipped} not checkable`);
  if (lab.crash) parts.push(`crashed: ${lab.crash}`);
  return parts.join(', ');
}

function anchor(student: StudentGrade): string {
  return `student-${student.row}`;
}

function fmt(points: number): string {
  return Number.isInteger(points) ? String(points) : points.toFixed(2).replace(/0$/, '');
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
.meta { color: #555; margin: .2rem 0; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .5rem; text-align: right; vertical-align: top; }
th { background: #f3f3f3; cursor: pointer; user-select: none; white-space: nowrap; }
th small { display: block; font-weight: normal; color: #555; }
th[aria-sort="ascending"]::after { content: " ▲"; }
th[aria-sort="descending"]::after { content: " ▼"; }
td:nth-child(2), td:nth-child(3), th:nth-child(2), th:nth-child(3) { text-align: left; }
td.cell small { display: block; color: #444; font-size: .75rem; }
td.cell a { color: inherit; font-weight: 600; }
td.none { background: #eee; color: #888; text-align: center; }
td.other { background: #fafafa; }
td.total { font-weight: 600; }
tfoot td { background: #fafafa; font-style: italic; }
.verdict { border-radius: .6rem; padding: 0 .45rem; font-size: .8rem; white-space: nowrap; }
.verdict.graded { background: #d8f0d8; }
.verdict.crashed { background: #fde2b8; }
.verdict.timed-out { background: #f6d0f0; }
.verdict.did-not-start, .verdict.no-answer { background: #f5c6c6; }
.outcome { font-size: .75rem; padding: 0 .35rem; border-radius: .5rem; }
.outcome.failed { background: #f5c6c6; }
.outcome.flaky { background: #fdf0b0; }
section { border-top: 1px solid #ddd; padding: .5rem 0; }
section h3 { margin: .3rem 0; }
details { margin: .25rem 0 .25rem 1rem; }
summary { cursor: pointer; }
pre { background: #f7f7f7; padding: .4rem; overflow-x: auto; white-space: pre-wrap; font-size: .8rem; }
.crash { color: #b35c00; }
code { font-size: .85rem; }
`;

const SORT_SCRIPT = `
(function () {
  var table = document.getElementById('grid');
  var headers = table.tHead.rows[0].cells;
  function sortBy(index) {
    var header = headers[index];
    var ascending = header.getAttribute('aria-sort') !== 'ascending';
    for (var i = 0; i < headers.length; i++) headers[i].removeAttribute('aria-sort');
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var numeric = header.getAttribute('data-type') === 'number';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute('data-sort');
      var y = b.cells[index].getAttribute('data-sort');
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  for (var i = 0; i < headers.length; i++) {
    (function (index) {
      headers[index].addEventListener('click', function () { sortBy(index); });
      headers[index].addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sortBy(index); }
      });
    })(i);
  }
})();
`;
