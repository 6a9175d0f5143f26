/**
 * The Python server docs/conformance.md points at: written the way the v1 prototype works, it meets
 * the core and strict profiles and fails robustness, as the profiles say the prototype does.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/runner.ts';

const SERVER = join(import.meta.dirname, '..', '..', 'docs', 'examples', 'prototype_server.py');
const hasPythonCryptography = spawnSync('python3', ['-c', 'import cryptography']).status === 0;

describe.skipIf(!hasPythonCryptography)('the Python prototype-style example server', () => {
  const target = {
    kind: 'spawned',
    command: `python3 "${SERVER}" --port {port}`,
    password: 'secret123',
  } as const;

  it('passes every core and strict scenario', async () => {
    const run = await runConformance({ target, tags: '@core or @strict' });
    expect(run.scenarios.length).toBeGreaterThan(80);
    expect(
      run.scenarios
        .filter((result) => result.status !== 'passed' && result.status !== 'skipped')
        .map((result) => result.name),
    ).toEqual([]);
  });

  it('fails the hardening it lacks: weak keys, over-long lines, slow readers', async () => {
    const run = await runConformance({
      target,
      tags: '@ECP-KX-05 or @ECP-LIM-01 or @ECP-LIM-03',
      timeoutMs: 1000,
    });
    expect(run.scenarios.map((result) => [result.name, result.status])).toEqual([
      ["A line over the limit ends its member's connection", 'failed'],
      ['A line of exactly the line limit is processed normally', 'passed'],
      ['A member that stops reading does not delay the others', 'failed'],
      ['A public key shorter than 2048 bits is refused', 'failed'],
    ]);
  });
});
