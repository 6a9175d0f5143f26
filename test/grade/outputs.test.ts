import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatClassReport } from '../../grade/class-report.ts';
import { formatTable, selectLabs } from '../../grade/command.ts';
import { formatGradebook, GRADE_FILES, readGrades, writeGrades } from '../../grade/gradebook.ts';
import { mergeGrades } from '../../grade/merge.ts';
import { GRADES_SCHEMA, type GradesFile, type StudentGrade } from '../../grade/model.ts';
import { emptyLab, labGrade, outcomeOf, totals } from '../../grade/scoring.ts';
import { loadWeights } from '../../grade/weights.ts';

function student(
  row: number,
  name: string,
  passes: [number, number],
  verdict: StudentGrade['verdict'] = 'graded',
): StudentGrade {
  const folder = `students/${String(row).padStart(3, '0')}-${name}`;
  const scenarios = (lab: number, passed: number) =>
    Array.from({ length: 4 }, (_, i) => {
      const attempts = i < passed ? ['passed'] : i === 3 ? ['failed', 'passed'] : ['failed'];
      return {
        location: `features/lab${lab}.feature:${i + 1}`,
        name: `scenario ${i} <of lab ${lab}>`,
        requirements: ['ECP-HS-02'],
        outcome: outcomeOf(attempts),
        attempts,
        ...(attempts[0] === 'failed'
          ? {
              failure: 'expected: x\n  actual: y',
              evidence: [`${folder}/lab-${lab}/evidence/01-x/transcript-alice.txt`],
            }
          : {}),
      };
    });
  const labs =
    verdict === 'did-not-start'
      ? [emptyLab({ number: 1, weight: 10 }, 'not-run'), emptyLab({ number: 2, weight: 20 }, 'not-run')]
      : [
          labGrade({ number: 1, weight: 10 }, scenarios(1, passes[0]), 0.5),
          labGrade({ number: 2, weight: 20 }, scenarios(2, passes[1]), 0.5),
        ];
  for (const lab of labs) {
    if (lab.status !== 'not-run') {
      lab.reports = {
        html: `${folder}/lab-${lab.lab}/cucumber.html`,
        summary: `${folder}/lab-${lab.lab}/summary.json`,
        markdown: `${folder}/lab-${lab.lab}/summary.md`,
      };
    }
  }
  return {
    row,
    student: name,
    kind: 'server',
    dir: `/class/${name}`,
    command: 'python3 server.py --port {port}',
    verdict,
    notes:
      verdict === 'did-not-start'
        ? ['did not start: it exited with code 1 before accepting connections']
        : [],
    ...totals(labs),
    durationMs: 1234,
    labs,
  };
}

function grades(students: StudentGrade[], shard: GradesFile['options']['shard'] = null): GradesFile {
  return {
    schema: GRADES_SCHEMA,
    generatedAt: '2026-11-30T12:00:00.000Z',
    roster: 'roster.csv',
    rosterSha256: 'c0ffee',
    options: {
      labs: [1, 2],
      tags: null,
      repeat: 2,
      timeoutMs: 2000,
      limits: { handshakeTimeoutMs: 1000 },
      capSeconds: 600,
      resources: { cpuSeconds: 120, memoryMb: 2048, processes: 256 },
      flakyCredit: 0.5,
      html: 'failing',
      shard,
    },
    labs: [
      { number: 1, title: 'Framing and JSON', party: 'server', weight: 10, scenarios: 4 },
      { number: 2, title: 'Handshake and password', party: 'server', weight: 20, scenarios: 4 },
    ],
    students,
  };
}

describe('the gradebook', () => {
  it('has a student column, points per lab, the total and the verdict', () => {
    const csv = formatGradebook(
      grades([student(1, 'alice', [4, 2]), student(2, 'bob, jr', [0, 0], 'did-not-start')]),
    );
    expect(csv.split('\r\n')).toEqual([
      'student,kind,lab-1,lab-2,total,possible,verdict,notes',
      'alice,server,10,12.5,22.5,30,graded,',
      '"bob, jr",server,0,0,0,30,did-not-start,did not start: it exited with code 1 before accepting connections',
      '',
    ]);
  });
});

describe('the class report', () => {
  const html = formatClassReport(grades([student(1, 'alice', [4, 2]), student(2, 'bob', [1, 3])]));

  it('says in its header, in plain words, what was graded and how', () => {
    const header = html.match(/<h1>.*<\/h1>\n<p class="meta">(.*)<\/p>/)?.[1];
    expect(header).toBe(
      '2 servers · labs 1, 2 · timeout 2 s · limits handshakeTimeoutMs=1000 · ' +
        'failures rerun up to 1×, flaky counts 0.5 · cap 600 s per server · generated 2026-11-30T12:00:00.000Z',
    );
  });

  it('escapes what it writes in its header as HTML', () => {
    const page = formatClassReport({
      ...grades([student(1, 'alice', [4, 2])]),
      generatedAt: '<now> & "then"',
    });
    expect(page).toContain('generated &lt;now&gt; &amp; &quot;then&quot;');
  });

  it('is one self-contained page: no script, style or link from elsewhere', () => {
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('<script>');
    expect(html).toContain('<style>');
  });

  it('has a row per student and a cell per lab that opens that lab’s report', () => {
    expect(html).toContain('href="students/001-alice/lab-1/cucumber.html"');
    expect(html).toContain('href="students/002-bob/lab-2/cucumber.html"');
    expect(html).toMatch(
      /<td data-sort="12.5" class="cell"[^>]*><a href="students\/001-alice\/lab-2\/cucumber.html">12.5<\/a><small>2\/4 · 1 flaky<\/small>/,
    );
  });

  it('lists each failed and flaky scenario with its evidence, escaped', () => {
    expect(html).toContain('scenario 3 &lt;of lab 2&gt;');
    expect(html).not.toContain('<of lab');
    expect(html).toContain('<span class="outcome flaky">flaky</span>');
    expect(html).toContain('href="students/002-bob/lab-1/evidence/01-x/transcript-alice.txt"');
  });

  it('sorts by any column: every header is sortable and every cell has a sort key', () => {
    const headers = html.match(/<th scope="col" data-type="(number|text)"/g) ?? [];
    expect(headers).toHaveLength(6);
    const bodyRows = html.split('<tbody>')[1]!.split('</tbody>')[0]!.trim().split('\n');
    for (const row of bodyRows) expect(row.match(/<td data-sort=/g)).toHaveLength(6);
  });
});

describe('the fuzz column (ecp grade --fuzz)', () => {
  const fuzzed = grades([
    { ...student(1, 'alice', [4, 4]), fuzz: { seconds: 30, seed: 7, histories: 60 } },
    {
      ...student(2, 'bob', [4, 4]),
      fuzz: {
        seconds: 30,
        seed: 7,
        histories: 3,
        violation: { requirement: 'ECP-UL-01', text: 'a stale <user_list>' },
        feature: 'students/002-bob/fuzz/fuzz-7-2.feature',
      },
    },
  ]);
  fuzzed.options.fuzz = { seconds: 30, seed: 7 };

  it('says clean, or links the rule a history broke to the history', () => {
    const html = formatClassReport(fuzzed);
    expect(html).toContain('>clean</td>');
    expect(html).toContain('<a href="students/002-bob/fuzz/fuzz-7-2.feature">ECP-UL-01</a>');
    expect(html).toContain('a stale &lt;user_list&gt;');
    expect(formatTable(fuzzed).split('\n')[1]).toMatch(/total\s+fuzz\s+verdict/);
  });

  it('is absent without --fuzz', () => {
    expect(formatClassReport(grades([student(1, 'alice', [4, 4])]))).not.toContain('>Fuzz<');
  });
});

describe('ecp grade merge', () => {
  function shard(name: string, file: GradesFile): string {
    const dir = mkdtempSync(join(tmpdir(), `ecp-${name}-`));
    for (const grade of file.students) {
      const folder = join(dir, 'students', `${String(grade.row).padStart(3, '0')}-${grade.student}`, 'lab-1');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'cucumber.html'), `<p>${grade.student}</p>`);
    }
    writeFileSync(join(dir, GRADE_FILES.json), JSON.stringify(file));
    return dir;
  }

  it('joins shards into one report in roster order, with every student’s reports', async () => {
    const first = shard(
      'a',
      grades([student(1, 'alice', [4, 4]), student(3, 'carol', [2, 2])], { index: 1, count: 2 }),
    );
    const second = shard('b', grades([student(2, 'bob', [3, 3])], { index: 2, count: 2 }));
    const out = join(mkdtempSync(join(tmpdir(), 'ecp-merged-')), 'class');
    const merged = await mergeGrades([first, second], out);
    expect(merged.students.map((item) => item.student)).toEqual(['alice', 'bob', 'carol']);
    expect(merged.options.shard).toBeNull();
    expect(readGrades(join(out, GRADE_FILES.json)).students).toHaveLength(3);
    expect(readFileSync(join(out, 'students', '002-bob', 'lab-1', 'cucumber.html'), 'utf8')).toBe(
      '<p>bob</p>',
    );
    expect(readFileSync(join(out, GRADE_FILES.csv), 'utf8')).toContain('carol,');
    expect(readFileSync(join(out, GRADE_FILES.html), 'utf8')).toContain(
      'students/003-carol/lab-1/cucumber.html',
    );
  });

  it('refuses shards that overlap or were graded differently', async () => {
    const a = shard('a', grades([student(1, 'alice', [4, 4])]));
    const b = shard('b', grades([student(1, 'alice', [4, 4])]));
    const other = grades([student(2, 'bob', [4, 4])]);
    other.labs[1]!.weight = 30;
    const c = shard('c', other);
    const out = () => join(mkdtempSync(join(tmpdir(), 'ecp-merged-')), 'class');
    await expect(mergeGrades([a, b], out())).rejects.toThrow(/alice is in both/);
    await expect(mergeGrades([a, c], out())).rejects.toThrow(/other labs or weights/);
    const otherRoster = grades([student(3, 'carol', [4, 4])]);
    otherRoster.rosterSha256 = 'beef';
    await expect(mergeGrades([a, shard('d', otherRoster)], out())).rejects.toThrow(/graded another roster/);
  });

  it('writes what it reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecp-grades-'));
    const file = grades([student(1, 'alice', [4, 4])]);
    await writeGrades(dir, file);
    expect(readGrades(join(dir, GRADE_FILES.json))).toEqual(file);
  });
});

describe('the weights file', () => {
  it('gives points per lab and the flaky credit, in YAML or JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecp-weights-'));
    writeFileSync(join(dir, 'w.yaml'), 'labs:\n  1: 10\n  3: 25\nflaky: 0.25\n');
    writeFileSync(join(dir, 'w.json'), '{"labs": {"2": 5}}');
    writeFileSync(join(dir, 'bad.yaml'), 'labs: {1: -3}\n');
    expect(loadWeights(join(dir, 'w.yaml'))).toEqual({
      labs: new Map([
        [1, 10],
        [3, 25],
      ]),
      flaky: 0.25,
    });
    expect(loadWeights(join(dir, 'w.json'))).toEqual({ labs: new Map([[2, 5]]), flaky: 0.5 });
    expect(() => loadWeights(join(dir, 'bad.yaml'))).toThrow(/lab 1 needs a number of points/);
  });
});

describe('a class of servers and clients', () => {
  /** Alice's server through lab 1, Bob's client through lab 11: each row counts only its own lab. */
  const mixed = (): GradesFile => {
    const file = grades([student(1, 'alice', [4, 2])]);
    const server = file.students[0]!;
    server.labs = server.labs.filter((lab) => lab.lab === 1);
    Object.assign(server, totals(server.labs));
    const clientLab = labGrade(
      { number: 11, weight: 15 },
      Array.from({ length: 2 }, (_, i) => ({
        location: `features/client/lab11.feature:${i + 1}`,
        name: `client scenario ${i}`,
        requirements: ['ECP-HS-02'],
        outcome: outcomeOf(['passed']),
        attempts: ['passed'],
      })),
      0.5,
    );
    const client: StudentGrade = {
      row: 2,
      student: 'bob',
      kind: 'client',
      dir: '/class/bob',
      command: 'python3 client.py {host} {port} {username} {password}',
      verdict: 'graded',
      notes: [],
      ...totals([clientLab]),
      durationMs: 10,
      labs: [clientLab],
    };
    return {
      ...file,
      options: { ...file.options, labs: [1, 11] },
      labs: [
        { number: 1, title: 'Framing and JSON', party: 'server', weight: 10, scenarios: 4 },
        { number: 11, title: 'Join and key', party: 'client', weight: 15, scenarios: 2 },
      ],
      students: [server, client],
    };
  };

  it('leaves the other kind’s labs blank in the gradebook, with each row’s kind and possible total', () => {
    expect(formatGradebook(mixed()).split('\r\n')).toEqual([
      'student,kind,lab-1,lab-11,total,possible,verdict,notes',
      'alice,server,10,,10,10,graded,',
      'bob,client,,15,15,15,graded,',
      '',
    ]);
  });

  it('says so in the class report: the kinds counted, each row’s kind and total of its own labs', () => {
    const html = formatClassReport(mixed());
    expect(html).toContain('1 server, 1 client · labs 1, 11');
    expect(html).toContain('title="a client lab; this row is a server"');
    expect(html).toContain('title="a server lab; this row is a client"');
    expect(html).toMatch(/>bob<\/a> <small>client<\/small>/);
    expect(html).toContain('<td data-sort="15" class="total">15 <small>of 15</small></td>');
  });

  it('shows the kind in the terminal table, and blanks for the labs that are not the row’s', () => {
    const lines = formatTable(mixed()).split('\n');
    expect(lines[1]).toMatch(/^student\s+kind\s+lab 1\s+lab 11\s+total\s+verdict$/);
    expect(lines[2]).toMatch(/^alice\s+server\s+10\s+10\/10\s+graded$/);
    expect(lines[3]).toMatch(/^bob\s+client\s+15\s+15\/15\s+graded$/);
  });
});

describe('the labs a grading run selects', () => {
  it('by default, the labs of the kinds the roster has: server labs, client labs, or both', () => {
    const numbers = (kinds: ('server' | 'client')[]) =>
      selectLabs(
        { labs: undefined, lab: undefined, only: false, tags: undefined },
        undefined,
        new Set(kinds),
      ).map((lab) => [lab.number, lab.party]);
    expect(numbers(['server'])).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => [n, 'server']));
    expect(numbers(['client'])).toEqual([11, 12, 13].map((n) => [n, 'client']));
    expect(numbers(['server', 'client']).map(([n]) => n)).toEqual([1, 2, 3, 4, 5, 6, 7, 11, 12, 13]);
  });

  it('--lab N: the labs of its party up to N; weights give client labs points like any lab', () => {
    const args = { labs: undefined, lab: 12, only: false, tags: undefined };
    expect(selectLabs(args, undefined).map((lab) => lab.number)).toEqual([11, 12]);
    const weights = {
      labs: new Map([
        [11, 5],
        [12, 7],
      ]),
      flaky: 0.5,
    };
    expect(selectLabs(args, weights).map((lab) => [lab.number, lab.weight])).toEqual([
      [11, 5],
      [12, 7],
    ]);
  });
});
