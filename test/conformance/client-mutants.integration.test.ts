/**
 * Self-validation for clients: each faulty client is caught by the scenario named for it, and a
 * client that never connects, exits at once or floods its output gets a verdict and is stopped.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClientConformance } from '../../conformance/client-runner.ts';
import { CLIENT_MUTANTS, clientMutantSlug } from '../../conformance/mutants/client-catalogue.ts';

const ECP = join(import.meta.dirname, '..', '..', 'bin', 'ecp.js');

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function only(name: string): string[] {
  return [`^${escapeRegExp(name)}$`];
}

describe('the client kit catches every client mutant', () => {
  it('names every client mutant uniquely, also as a command-line slug', () => {
    expect(new Set(CLIENT_MUTANTS.map(clientMutantSlug)).size).toBe(CLIENT_MUTANTS.length);
  });

  for (const mutant of CLIENT_MUTANTS) {
    it(`${mutant.name}: ${mutant.fault}`, { timeout: 120_000 }, async () => {
      const transport = mutant.transports?.includes('tcp') === false ? 'tls' : 'tcp';
      const ca = transport === 'tls' ? ' --ca {ca}' : '';
      const run = await runClientConformance({
        command: `node ${ECP} mutant client ${clientMutantSlug(mutant)} {url} -u {username} -p {password}${ca}`,
        output: 'json',
        transport,
        tags: `@${mutant.requirement}`,
        names: only(mutant.caughtBy),
      });
      expect(run.scenarios.map((result) => [result.name, result.status])).toEqual([
        [mutant.caughtBy, 'failed'],
      ]);
    });
  }
});

describe('a client that misbehaves as a process', () => {
  const scenario = "The client's first message is a handshake with its name, the password and its key";

  it('one that never connects is stopped with its process group, with a verdict', {
    timeout: 60_000,
  }, async () => {
    const run = await runClientConformance({
      command: 'sleep 30 & sleep 30',
      output: 'json',
      transport: 'tcp',
      startTimeoutMs: 1000,
      names: only(scenario),
    });
    const [result] = run.scenarios;
    expect(result?.status).toBe('failed');
    expect(result?.failure?.message).toContain('connects to tcp://127.0.0.1');
    expect(result?.failure?.message).toContain('the client is still running');
    expect(result?.attachments.map((item) => item.name)).toContain('client-stdout.txt');
    expect(result?.attachments.find((item) => item.name === 'client-stdout.txt')?.text).toContain(
      'stopped with its process group',
    );
  });

  it('one that exits at once is reported with its status and output', { timeout: 60_000 }, async () => {
    const run = await runClientConformance({
      command: 'echo "usage: client HOST PORT" >&2; exit 3',
      output: 'json',
      transport: 'tcp',
      names: only(scenario),
    });
    const [result] = run.scenarios;
    expect(result?.failure?.message).toContain('exited (status 3) without connecting');
    expect(result?.attachments.find((item) => item.name === 'client-stderr.txt')?.text).toContain(
      'usage: client',
    );
  });

  it('one that floods its output is stopped, and says so', { timeout: 60_000 }, async () => {
    const run = await runClientConformance({
      command: 'yes "not a chat message"',
      output: 'json',
      transport: 'tcp',
      startTimeoutMs: 10_000,
      names: only(scenario),
    });
    const [result] = run.scenarios;
    expect(result?.status).toBe('failed');
    expect(result?.failure?.message).toContain(
      'the client flooded: it wrote more than 10000 lines on stdout',
    );
  });

  it('one whose stdout breaks the contract fails naming the rule', { timeout: 60_000 }, async () => {
    const run = await runClientConformance({
      command: `node ${ECP} mutant client banner-on-stdout {url} -u {username} -p {password}`,
      output: 'json',
      transport: 'tcp',
      names: only("The client shows a message sealed with the room key as the sender's text"),
    });
    expect(run.scenarios[0]?.failure?.message).toContain(
      'C2: every line the client writes on its standard output is one JSON object',
    );
    expect(run.scenarios[0]?.failure?.message).toContain('stdout line 1: not JSON: "Welcome to the chat!"');
  });
});
