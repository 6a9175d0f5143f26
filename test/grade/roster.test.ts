import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withLimitFlags } from '../../grade/grader.ts';
import { loadRoster, parseCsv, parseShard, RosterError, selectShard } from '../../grade/roster.ts';

function rosterFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecp-roster-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF and a byte-order mark', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",z')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['two\nlines', 'z'],
    ]);
  });

  it('refuses a quoted field that is never closed', () => {
    expect(() => parseCsv('a,"b\n')).toThrow(RosterError);
  });
});

describe('loadRoster', () => {
  it('reads a CSV roster: folders relative to the roster, an optional password column', () => {
    const path = rosterFile(
      'class.csv',
      'student,dir,command,password\nalice,alice,"python3 server.py --port {port}",\nbob,/srv/bob,./run --port {port},hunter2\n',
    );
    const rows = loadRoster(path);
    expect(rows).toEqual([
      {
        row: 1,
        student: 'alice',
        kind: 'server',
        dir: join(path, '..', 'alice'),
        command: 'python3 server.py --port {port}',
      },
      {
        row: 2,
        student: 'bob',
        kind: 'server',
        dir: '/srv/bob',
        command: './run --port {port}',
        password: 'hunter2',
      },
    ]);
  });

  it('reads a target column: where the started server of a row is reached, over any transport', () => {
    const path = rosterFile(
      'class.csv',
      'student,dir,command,target\nalice,a,./a --port {port},wss://127.0.0.1:{port}/ecp\nbob,b,./b --port {port},\n',
    );
    expect(loadRoster(path).map((row) => row.target)).toEqual(['wss://127.0.0.1:{port}/ecp', undefined]);
  });

  it('reads a YAML roster, as a list or under students', () => {
    const list = rosterFile('class.yaml', '- student: alice\n  dir: a\n  command: ./a --port {port}\n');
    const nested = rosterFile(
      'class.yml',
      'students:\n  - {student: bob, dir: b, command: "./b --port {port}"}\n',
    );
    expect(loadRoster(list).map((row) => row.student)).toEqual(['alice']);
    expect(loadRoster(nested).map((row) => row.command)).toEqual(['./b --port {port}']);
  });

  it('reads a kind column: server by default, client for a row graded through the client labs', () => {
    const csv = rosterFile(
      'class.csv',
      'student,dir,command,kind\nalice,a,./a --port {port},\nbob,b,python3 client.py {host} {port} {username} {password},client\ncarol,c,./c --port {port},Server\n',
    );
    expect(loadRoster(csv).map((row) => [row.student, row.kind])).toEqual([
      ['alice', 'server'],
      ['bob', 'client'],
      ['carol', 'server'],
    ]);
    const yaml = rosterFile(
      'class.yaml',
      '- {student: alice, dir: a, command: "./a --port {port}"}\n- {student: bob, dir: b, command: "ecp client {url} -u {username} -p {password} --json", kind: client}\n',
    );
    expect(loadRoster(yaml).map((row) => row.kind)).toEqual(['server', 'client']);
  });

  it('refuses a kind it does not know and a client command the grader cannot run, naming the row', () => {
    const cases: [string, RegExp][] = [
      [
        'student,dir,command,kind\nalice,a,./a {port},robot\n',
        /row 1 \(alice\): kind is 'robot'; it is server \(the default\) or client/,
      ],
      [
        'student,dir,command,kind\nalice,a,./a {port},server\nbob,b,./b {host},client\n',
        /row 2 \(bob\): the client's command has neither \{url\} nor \{port\}/,
      ],
      ['student,dir,command,kind\nbob,b,./b {url} --ca {ca},client\n', /row 1 \(bob\): .*cannot use \{ca\}/],
      [
        'student,dir,command,kind,target\nbob,b,./b {url},client,tls://127.0.0.1:{port}\n',
        /row 1 \(bob\): a client row has no target/,
      ],
    ];
    for (const [text, message] of cases) {
      expect(() => loadRoster(rosterFile('r.csv', text))).toThrow(message);
    }
    expect(() =>
      loadRoster(rosterFile('r.yaml', '- {student: a, dir: a, command: "./a {port}", kind: 3}\n')),
    ).toThrow(/row 1 \(a\): kind is '3'/);
  });

  it('says which row is wrong and why', () => {
    const cases: [string, RegExp][] = [
      ['name,dir,command\n', /lacks student/],
      ['student,dir,command,colour\n', /unknown roster column/],
      ['student,dir,command\nalice,a,./a\n', /row 1 \(alice\): the command has no \{port\}/],
      ['student,dir,command\nalice,a,./a {port}\nalice,b,./b {port}\n', /row 2: student alice appears twice/],
      ['student,dir,command\nalice,a\n', /row 1: 2 fields where the header has 3/],
      ['student,dir,command\n,a,./a {port}\n', /row 1: student is empty/],
      [
        'student,dir,command,target\nalice,a,./a {port},ws://127.0.0.1:9000/ecp\n',
        /row 1 \(alice\): the target .* has no \{port\}/,
      ],
      [
        'student,dir,command,target\nalice,a,./a {port},http://127.0.0.1:{port}/\n',
        /row 1 \(alice\): .*ws:\/\/host:port\/path/,
      ],
    ];
    for (const [text, message] of cases) {
      expect(() => loadRoster(rosterFile('r.csv', text))).toThrow(message);
    }
  });
});

describe('--shard K/N', () => {
  it('keeps rows K, K+N, K+2N, ... so that the shards cover the roster exactly once', () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({
      row: i + 1,
      student: `s${i + 1}`,
      kind: 'server' as const,
      dir: '/',
      command: '{port}',
    }));
    const shards = [1, 2, 3].map((index) => selectShard(rows, { index, count: 3 }).map((row) => row.row));
    expect(shards).toEqual([
      [1, 4, 7, 10],
      [2, 5, 8],
      [3, 6, 9],
    ]);
  });

  it('parses K/N and refuses anything else', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const text of ['0/4', '5/4', '2', 'a/b', '1/0']) expect(() => parseShard(text)).toThrow(RangeError);
  });
});

describe('{limits} in a command', () => {
  it('becomes the contract flag of each limit given, leaving out the flags a server need not take', () => {
    const command = withLimitFlags('python3 server.py --port {port} {limits}', {
      handshakeTimeoutMs: 1000,
      maxLineBytes: 65536,
      slowReaderTimeoutMs: 1000,
    });
    expect(command).toBe(
      'python3 server.py --port {port} --handshake-timeout-ms 1000 --max-line-bytes 65536',
    );
    expect(withLimitFlags('./server --port {port}', { maxConnections: 5 })).toBe('./server --port {port}');
  });
});
