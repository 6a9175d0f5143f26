/**
 * The command blocks of a Markdown page: fenced blocks that show a command and what it prints.
 * A block is a transcript when its first line starts with `$ ` (each such line a command, the
 * lines after it its output), or when the HTML comment right before it says which command it
 * shows the output of (`run:`). That comment also marks a block illustrative, with the reason,
 * or annotates it:
 *
 *     <!-- illustrative: a server session, typed by hand -->
 *     <!-- doc-test: { run: npm start, mask: ['\d+ ms'], illustrative: { 2: runs until stopped } } -->
 *
 * After `doc-test:` comes a YAML mapping: `run` (the command whose output the block is), `mask`
 * (more patterns masked on both sides), `illustrative` (commands of the block not run, by their
 * number from 1, each with its reason), `needs` (a shell command that must succeed for the block
 * to run, such as a toolchain check; without it the block is skipped, saying so).
 */
import type { Code, Html, Nodes, Parent } from 'mdast';
import { fromMarkdown } from 'mdast-util-from-markdown';
import { parse as parseYaml } from 'yaml';

export interface Command {
  /** As typed after `$ `. */
  command: string;
  /** 1-based line in the page of the `$` line (or of the fence, for a `run:` block). */
  line: number;
  /** The lines the doc shows it printing. */
  output: string[];
  /** 1-based line in the page of the first output line. */
  outputLine: number;
  /** Why it is not run, when it is not. */
  illustrative?: string;
}

export interface CommandBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  commands: Command[];
  masks: RegExp[];
  /** A shell command that must succeed for the block to run. */
  needs?: string;
  /** Why the whole block is not run, when it is not. */
  illustrative?: string;
}

export class AnnotationError extends Error {
  override name = 'AnnotationError';
}

interface Annotation {
  illustrative?: string;
  run?: string;
  needs?: string;
  masks: RegExp[];
  illustrativeCommands: Map<number, string>;
}

const COMMENT = /^<!--\s*(illustrative|doc-test):([\s\S]*?)-->\s*$/;

function parseAnnotation(html: string, where: string): Annotation | undefined {
  const match = COMMENT.exec(html.trim());
  if (!match) return undefined;
  const [, kind, body = ''] = match;
  if (kind === 'illustrative') {
    const reason = body.trim();
    if (!reason) throw new AnnotationError(`${where}: say why the block is illustrative`);
    return { illustrative: reason, masks: [], illustrativeCommands: new Map() };
  }
  let fields: unknown;
  try {
    fields = parseYaml(body);
  } catch (error) {
    throw new AnnotationError(`${where}: doc-test annotation is not YAML: ${(error as Error).message}`);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new AnnotationError(`${where}: doc-test annotation must be a mapping`);
  }
  const { run, needs, mask = [], illustrative = {}, ...unknown } = fields as Record<string, unknown>;
  const unknownKeys = Object.keys(unknown);
  if (unknownKeys.length > 0)
    throw new AnnotationError(`${where}: unknown doc-test keys: ${unknownKeys.join(', ')}`);
  if (run !== undefined && typeof run !== 'string') {
    throw new AnnotationError(`${where}: run must be a command`);
  }
  if (needs !== undefined && typeof needs !== 'string') {
    throw new AnnotationError(`${where}: needs must be a command`);
  }
  const patterns = Array.isArray(mask) ? mask : [mask];
  const masks = patterns.map((pattern) => {
    try {
      return new RegExp(String(pattern), 'g');
    } catch (error) {
      throw new AnnotationError(`${where}: mask ${pattern}: ${(error as Error).message}`);
    }
  });
  if (typeof illustrative !== 'object' || illustrative === null) {
    throw new AnnotationError(`${where}: illustrative must map command numbers to reasons`);
  }
  const illustrativeCommands = new Map(
    Object.entries(illustrative).map(([number, reason]) => [Number(number), String(reason)]),
  );
  return {
    ...(run === undefined ? {} : { run }),
    ...(needs === undefined ? {} : { needs }),
    masks,
    illustrativeCommands,
  };
}

/** Splits a transcript's lines into commands and their output. */
function splitTranscript(lines: string[], firstLine: number): Command[] {
  const commands: Command[] = [];
  lines.forEach((text, index) => {
    const line = firstLine + index;
    if (text.startsWith('$ '))
      commands.push({ command: text.slice(2), line, output: [], outputLine: line + 1 });
    else commands.at(-1)?.output.push(text);
  });
  return commands;
}

/** Every command block of a page, in order. */
export function commandBlocks(file: string, markdown: string): CommandBlock[] {
  const blocks: CommandBlock[] = [];
  const visit = (parent: Parent) => {
    parent.children.forEach((node: Nodes, index) => {
      if ('children' in node) visit(node);
      if (node.type !== 'code') return;
      const code = node as Code;
      const line = code.position?.start.line ?? 0;
      const before = parent.children[index - 1];
      const annotation =
        before?.type === 'html' ? parseAnnotation((before as Html).value, `${file}:${line}`) : undefined;
      const lines = code.value === '' ? [] : code.value.split('\n');
      let commands: Command[];
      if (annotation?.run !== undefined) {
        commands = [{ command: annotation.run, line, output: lines, outputLine: line + 1 }];
      } else if (lines[0]?.startsWith('$ ')) {
        commands = splitTranscript(lines, line + 1);
      } else {
        if (annotation && !annotation.illustrative) {
          throw new AnnotationError(
            `${file}:${line}: a doc-test annotation on a block that shows no command`,
          );
        }
        return;
      }
      for (const [number, reason] of annotation?.illustrativeCommands ?? []) {
        const command = commands[number - 1];
        if (!command) throw new AnnotationError(`${file}:${line}: the block has no command ${number}`);
        command.illustrative = reason;
      }
      blocks.push({
        file,
        line,
        commands,
        masks: annotation?.masks ?? [],
        ...(annotation?.needs ? { needs: annotation.needs } : {}),
        ...(annotation?.illustrative ? { illustrative: annotation.illustrative } : {}),
      });
    });
  };
  visit(fromMarkdown(markdown));
  return blocks;
}
