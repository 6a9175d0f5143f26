/**
 * The path docs/labs/README.md promises a new student: take the Python starter, do its
 * TODO(lab 1)s and nothing else, and lab 1 passes. The test does exactly that to a copy of the
 * starter: each lab-1 function gets the body it has in the completed server, and the handshake
 * check gets the two lines the lab 1 page shows. Every later TODO is left as it is.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../conformance/runner.ts';
import { solutionWithoutMarkers } from '../../labs/generate-starters.ts';
import { ROOT } from './servers.ts';

const hasPythonCryptography = spawnSync('python3', ['-c', 'import cryptography']).status === 0;

/** The lines of a Python `def` (or class method) named `name`, up to the next line as indented or less. */
function pythonFunction(source: string, name: string): string {
  const lines = source.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^\\s*def ${name}\\(`).test(line));
  if (start < 0) throw new Error(`no def ${name}`);
  const indent = /^\s*/.exec(lines[start]!)![0].length;
  let end = start + 1;
  while (end < lines.length && (lines[end]!.trim() === '' || /^\s*/.exec(lines[end]!)![0].length > indent))
    end++;
  while (lines[end - 1]!.trim() === '') end--;
  return lines.slice(start, end).join('\n');
}

/** What the lab 1 page tells a student to write in Server.check_handshake. */
const LAB1_CHECK_HANDSHAKE = `    def check_handshake(self, message):
        if not password_matches(message["server_password"], self.args.password):
            raise Refused(INVALID_PASSWORD)
        raise NotImplementedError("TODO(lab 3): admit")`;

describe.skipIf(!hasPythonCryptography)(
  'the Python starter with its lab 1 TODOs done (needs python3 cryptography)',
  () => {
    it('passes lab 1', async () => {
      const starter = readFileSync(join(ROOT, 'labs/starters/python/server.py'), 'utf8');
      const solution = solutionWithoutMarkers(
        readFileSync(join(ROOT, 'test/labs/solutions/python/server.py'), 'utf8'),
        '#',
      );
      let server = starter;
      for (const name of ['feed', 'parse_message', 'encode', 'password_matches']) {
        server = server.replace(pythonFunction(starter, name), pythonFunction(solution, name));
      }
      server = server.replace(pythonFunction(starter, 'check_handshake'), LAB1_CHECK_HANDSHAKE);
      // LineSplitter.feed of the solution keeps a scan position; the starter's __init__ has none yet.
      server = server.replace(
        '        self.buffer = bytearray()\n',
        '        self.buffer = bytearray()\n        self.scanned = 0\n',
      );
      expect(server).not.toContain('TODO(lab 1)');
      expect(server).toContain('TODO(lab 2)');

      const dir = mkdtempSync(join(tmpdir(), 'ecp-lab1-'));
      writeFileSync(join(dir, 'server.py'), server);
      const run = await runConformance({
        target: {
          kind: 'spawned',
          command: `python3 ${join(dir, 'server.py')} --port {port} --password {password}`,
          password: 'secret123',
        },
        lab: 1,
        onlyLab: true,
      });
      expect(run.scenarios.length).toBeGreaterThan(15);
      expect(
        run.scenarios.filter((result) => result.status !== 'passed').map((result) => result.name),
      ).toEqual([]);
    }, 60_000);
  },
);
