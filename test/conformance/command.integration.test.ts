/**
 * `ecp conformance` as a user runs it: exit codes, console output and the report files.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConformanceSummary } from '../../conformance/reports/summary.ts';

const ECP = join(import.meta.dirname, '..', '..', 'bin', 'ecp.js');
const REFUSING_SERVER = join(import.meta.dirname, 'fixtures', 'refusing-server.mjs');

function ecp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ECP, 'conformance', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port on which nothing listens (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ecp conformance', () => {
  it('passes the embedded reference server and exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ecp-conformance-'));
    const { code, stdout } = await ecp(['--tags', '@ECP-HS-02 or @ECP-AUTH-02', '--out', out]);
    expect(stdout).toContain('✓ core');
    expect(stdout).toMatch(/PASS {2}core 1\/1 · strict 1\/1/);
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ConformanceSummary;
    expect(summary).toMatchObject({
      schema: 'ecp-conformance/1',
      verdict: 'pass',
      totals: { total: 2, passed: 2 },
    });
    for (const file of ['summary.md', 'cucumber.html', 'junit.xml'])
      expect(existsSync(join(out, file))).toBe(true);
  });

  it('fails a spawned server that breaks the protocol: exit 1, expected vs actual, evidence on disk', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ecp-conformance-'));
    const { code, stdout } = await ecp([
      '--spawn',
      `"${process.execPath}" "${REFUSING_SERVER}" {port} alice`,
      '--tags',
      '@ECP-HS-02',
      '--timeout',
      '0.5',
      '--out',
      out,
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain('✗ ECP-HS-02 MUST (server)');
    expect(stdout).toMatch(/expected: alice receives a key_exchange/);
    expect(stdout).toMatch(
      /actual: +alice received 1 other line\(s\): \{"type":"auth_error","message":"Go away"\}/,
    );
    expect(stdout).toMatch(/FAIL {2}core 0\/1\n/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ConformanceSummary;
    expect(summary.verdict).toBe('fail');
    const [admitted] = summary.scenarios;
    expect(admitted).toMatchObject({ status: 'failed', requirements: ['ECP-HS-02'], profile: 'core' });
    const serverOutput = readFileSync(
      join(out, admitted!.evidence.find((file) => file.endsWith('server-output.txt'))!),
      'utf8',
    );
    expect(serverOutput).toMatch(/refusing alice-\S+ /);
    const transcript = readFileSync(
      join(out, admitted!.evidence.find((file) => file.includes('alice'))!),
      'utf8',
    );
    expect(transcript).toContain('"server_password":"<redacted: the server password>"');
    expect(transcript).toContain('← {"type":"auth_error","message":"Go away"}');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('# ECP conformance: FAIL');
  });

  it('exits 2, in one line, when the server refuses the password the kit was given', async () => {
    const { code, stdout, stderr } = await ecp([
      '--spawn',
      `"${process.execPath}" "${ECP}" server --port {port} --password right`,
      '--password',
      'wrong',
      '--out',
      mkdtempSync(join(tmpdir(), 'ecp-conformance-')),
    ]);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      'ecp conformance: the server refused the password the kit was given: check --password',
    );
    expect(stdout).not.toMatch(/[✓✗]/);
  });

  it('says the same of a server that refuses every handshake, whatever the password', async () => {
    const { code, stderr } = await ecp([
      '--spawn',
      `"${process.execPath}" "${REFUSING_SERVER}" {port}`,
      '--out',
      mkdtempSync(join(tmpdir(), 'ecp-conformance-')),
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('the server refused the password the kit was given: check --password');
  });

  it('runs the scenarios against a server that answers the password check with no verdict on it', async () => {
    const announcing = join(
      import.meta.dirname,
      '..',
      'server-under-test',
      'fixtures',
      'announcing-server.mjs',
    );
    const { code, stdout, stderr } = await ecp([
      '--spawn',
      `"${process.execPath}" "${announcing}" {port}`,
      '--tags',
      '@ECP-HS-02',
      '--timeout',
      '0.3',
      '--out',
      mkdtempSync(join(tmpdir(), 'ecp-conformance-')),
    ]);
    expect(stderr).not.toContain('refused the password');
    expect(code).toBe(1);
    expect(stdout).toContain('✗ ECP-HS-02');
  });

  it('exits 2 when nothing listens at the target', async () => {
    const port = await closedPort();
    const { code, stderr } = await ecp(['--target', `127.0.0.1:${port}`, '--out', tmpdir()]);
    expect(code).toBe(2);
    expect(stderr).toContain(`nothing accepts connections at tcp://127.0.0.1:${port}`);
  });

  it('exits 2 when a spawned server does not start, with its output', async () => {
    const { code, stderr } = await ecp(['--spawn', 'echo "cannot bind {port}" && exit 3', '--out', tmpdir()]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/exited \(code 3\) before accepting connections/);
    expect(stderr).toContain('cannot bind');
  });

  it.each([
    [['--profile', 'loose'], /Invalid values/],
    [['--limits', 'maxLineBytes=big'], /positive whole number/],
    [['--target', 'nowhere'], /invalid endpoint 'nowhere': expected a URL/],
    [['--uncovered'], /--uncovered goes with --list/],
    [['--only'], /--only goes with --lab N/],
    [['--lab', '14'], /there is no lab 14; the labs are 1, 2/],
    [['--target', '127.0.0.1:8888', '--parallel', '2'], /--parallel needs a server the kit starts/],
    [['--client', 'x {url}', '--target', '127.0.0.1:8888'], /--client goes without --target/],
    [['--client', ' '], /--client needs the command/],
    [['--client', 'x --ca {ca} {url}'], /\{ca\} is for a client run over --transport tls or wss/],
  ])('exits 2 on bad arguments: %j', async (args, message) => {
    const { code, stderr } = await ecp([...args, '--out', tmpdir()]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('lists scenarios with their profile and requirements, and the requirements without one', async () => {
    const listed = await ecp(['--list', '--profile', 'strict']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^lab 5 +strict +ECP-HS-03 +features\/handshake\.feature:\d+ +The join sequence/m,
    );
    expect(listed.stdout).not.toMatch(/^lab \d+ +core /m);
    const lab1 = await ecp(['--list', '--lab', '1', '--only', '--section', 'ECP-FR']);
    expect(lab1.code).toBe(0);
    expect(lab1.stdout).toMatch(
      /^lab 1 +core +ECP-FR-03 .* A handshake sent one byte at a time is one message$/m,
    );
    expect(lab1.stdout).not.toMatch(/^lab [2-9]/m);
    expect(lab1.stdout).not.toMatch(/ECP-(?!FR-)/);
    const uncovered = await ecp(['--list', '--uncovered']);
    expect(uncovered.code).toBe(0);
    expect(uncovered.stdout).toMatch(
      /(\d+)\/\1 server MUST and SHOULD requirements have a scenario; 0 unknown IDs/,
    );
    expect(uncovered.stdout).toMatch(
      /(\d+)\/\1 client MUST and SHOULD requirements have a scenario; 0 unknown IDs/,
    );
    const client = await ecp(['--list', '--client', 'x', '--lab', '11', '--only']);
    expect(client.stdout).toMatch(/^lab 11 +core +ECP-HS-01 +features\/client\/joining\.feature:\d+ /m);
  });
});
