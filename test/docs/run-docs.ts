/**
 * `npm run test:docs`: runs every command that README.md, docs/*.md and docs/labs/*.md show with
 * its output, and fails when what the program prints no longer matches what the page shows
 * (figures that change from run to run masked; see match.ts). A block that cannot be run here (a
 * server session typed by hand, a long benchmark) is marked illustrative in the page, with the
 * reason; see blocks.ts for the annotations.
 *
 * `npm run docs:update` runs the same commands and rewrites each block that no longer matches
 * with what was printed, keeping the page's `...` elisions and every line that still matches.
 *
 * Commands run through `sh` with `ecp` being this clone's bin/ecp.js, in a temporary directory
 * that links to the clone's top-level entries (so `docs/...` paths resolve and reports land in
 * the temporary directory), standard error merged into standard output as on a terminal.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnnotationError, type CommandBlock, commandBlocks } from './blocks.ts';
import { compareOutput, refreshOutput } from './match.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A command still running after this long is stopped and counts as failed. */
const COMMAND_TIMEOUT_MS = 180_000;

function pages(): string[] {
  const list = (dir: string) =>
    readdirSync(join(ROOT, dir))
      .filter((name) => name.endsWith('.md'))
      .sort()
      .map((name) => join(dir, name));
  return ['README.md', ...list('docs'), ...list('docs/labs')];
}

/** A directory where `ecp` is this clone's, and the clone's files are at hand. */
function workspace(): { cwd: string; env: NodeJS.ProcessEnv; remove: () => void } {
  const temp = mkdtempSync(join(tmpdir(), 'ecp-docs-'));
  const bin = join(temp, '.bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'ecp'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/ecp.js')}" "$@"\n`,
    {
      mode: 0o755,
    },
  );
  const cwd = join(temp, 'clone');
  mkdirSync(cwd);
  for (const entry of readdirSync(ROOT)) {
    if (entry !== 'reports' && entry !== '.git') symlinkSync(join(ROOT, entry), join(cwd, entry));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  delete env.ECP_PASSWORD;
  return { cwd, env, remove: () => rmSync(temp, { recursive: true, force: true }) };
}

/** The process groups of the commands running now, stopped if this process is. */
const running = new Set<number>();
/** Removes the temporary workspace, once it exists. */
let removeWorkspace = () => {};

function stopGroup(group: number): void {
  try {
    process.kill(-group, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    for (const group of running) stopGroup(group);
    removeWorkspace();
    process.exit(1);
  });
}

/** What a command prints, standard output and error interleaved as a terminal shows them. */
function runCommand(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `exec 2>&1\n${command}`], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true, // its own process group, so a timeout stops what it started too
    });
    const group = child.pid;
    if (group !== undefined) running.add(group);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      output += `\n[doc test: stopped after ${COMMAND_TIMEOUT_MS / 1000} s]`;
      if (group !== undefined) stopGroup(group);
    }, COMMAND_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve([`[doc test: sh did not start: ${error.message}]`]);
    });
    child.on('close', () => {
      if (group !== undefined) running.delete(group);
      clearTimeout(timer);
      resolve(output.split('\n'));
    });
  });
}

interface Failure {
  block: CommandBlock;
  index: number;
  actual: string[];
  firstMismatch: number;
}

function describeFailure({ block, index, actual, firstMismatch }: Failure): string {
  const command = block.commands[index]!;
  const shown = command.output[firstMismatch] ?? '(end of the block)';
  const printed = actual.slice(0, 60).map((line) => `  | ${line}`);
  if (actual.length > 60) printed.push(`  | ... (${actual.length - 60} more lines)`);
  return [
    `✗ ${block.file}:${command.line}: $ ${command.command}`,
    `  the page shows, at line ${command.outputLine + firstMismatch}: ${shown}`,
    '  no alignment of the printed output gets past that line. The program printed:',
    ...printed,
  ].join('\n');
}

/** Writes each failed block's refreshed output back into its page. */
function update(failures: readonly Failure[]): void {
  const byFile = new Map<string, Failure[]>();
  for (const failure of failures)
    byFile.set(failure.block.file, [...(byFile.get(failure.block.file) ?? []), failure]);
  for (const [file, fileFailures] of byFile) {
    const path = join(ROOT, file);
    const lines = readFileSync(path, 'utf8').split('\n');
    // From the bottom up, so earlier line numbers stay right.
    const ordered = [...fileFailures].sort(
      (a, b) => b.block.commands[b.index]!.outputLine - a.block.commands[a.index]!.outputLine,
    );
    for (const { block, index, actual } of ordered) {
      const command = block.commands[index]!;
      const start = command.outputLine - 1;
      const shown = lines.slice(start, start + command.output.length);
      if (shown.join('\n') !== command.output.join('\n')) {
        console.log(`  ${file}:${command.line}: the block is indented; update it by hand`);
        continue;
      }
      lines.splice(start, command.output.length, ...refreshOutput(command.output, actual, block.masks));
    }
    writeFileSync(path, lines.join('\n'));
    console.log(`updated ${file} (${fileFailures.length} command${fileFailures.length === 1 ? '' : 's'})`);
  }
}

async function main(): Promise<number> {
  const updating = process.argv.includes('--update');
  let blocks: CommandBlock[];
  try {
    blocks = pages().flatMap((file) => commandBlocks(file, readFileSync(join(ROOT, file), 'utf8')));
  } catch (error) {
    if (error instanceof AnnotationError) {
      console.error(`✗ ${error.message}`);
      return 1;
    }
    throw error;
  }
  const { cwd, env, remove } = workspace();
  removeWorkspace = remove;
  const outputs = new Map<string, Promise<string[]>>();
  const failures: Failure[] = [];
  let run = 0;
  let illustrative = 0;
  let skipped = 0;
  const available = new Map<string, boolean>();
  try {
    for (const block of blocks) {
      for (const [index, command] of block.commands.entries()) {
        if (block.illustrative || command.illustrative) {
          illustrative++;
          continue;
        }
        if (block.needs !== undefined) {
          if (!available.has(block.needs)) {
            available.set(
              block.needs,
              spawnSync('sh', ['-c', block.needs], { cwd, env, stdio: 'ignore' }).status === 0,
            );
          }
          if (!available.get(block.needs)) {
            console.log(
              `  - skipped ${block.file}:${command.line}: it needs \`${block.needs}\` to succeed, and it does not here`,
            );
            skipped++;
            continue;
          }
        }
        run++;
        // The same command shown on several pages runs once.
        let output = outputs.get(command.command);
        if (!output) {
          const startedAt = performance.now();
          output = runCommand(command.command, cwd, env);
          outputs.set(command.command, output);
          await output;
          const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
          console.log(`  ran ${block.file}:${command.line} in ${seconds} s: ${command.command}`);
        }
        const actual = await output;
        const comparison = compareOutput(command.output, actual, block.masks);
        if (!comparison.matches) {
          failures.push({ block, index, actual, firstMismatch: comparison.firstMismatch ?? 0 });
        }
      }
    }
  } finally {
    remove();
  }
  for (const failure of failures) console.log(`\n${describeFailure(failure)}`);
  if (updating && failures.length > 0) update(failures);
  console.log(
    `\n${run} commands shown in the docs checked (${outputs.size} distinct), ${illustrative} illustrative, ` +
      `${skipped} skipped: ` +
      `${run - failures.length} match, ${failures.length} differ`,
  );
  return failures.length > 0 && !updating ? 1 : 0;
}

process.exitCode = await main();
