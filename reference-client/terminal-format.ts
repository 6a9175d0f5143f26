/**
 * How the interactive client renders events as terminal lines. Pure: text in, text out, so the
 * look can be tested without a terminal. Colours only when asked for (the caller decides: a TTY
 * and no NO_COLOR).
 */
import { styleText } from 'node:util';
import type { ChatMessage, ClosedEvent, ProtocolErrorEvent, SystemEvent, UsersEvent } from './events.ts';

type StyleName = Extract<Parameters<typeof styleText>[0], string>;
type Style = StyleName | StyleName[];

/** Colours for other people's names, picked by a hash of the name so each keeps its colour. */
const NAME_COLOURS: StyleName[] = [
  'cyan',
  'green',
  'magenta',
  'blue',
  'yellow',
  'cyanBright',
  'greenBright',
  'magentaBright',
];

export class TerminalFormat {
  readonly color: boolean;

  constructor(options: { color: boolean }) {
    this.color = options.color;
  }

  /** `[HH:MM:SS]` in local time. */
  timestamp(time: Date): string {
    const two = (n: number) => String(n).padStart(2, '0');
    return this.#style(
      'gray',
      `[${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}]`,
    );
  }

  message(message: ChatMessage): string {
    const name = this.#style(message.own ? ['bold'] : ['bold', nameColour(message.sender)], message.sender);
    const head = `${this.timestamp(message.time)} ${name}`;
    switch (message.kind) {
      case 'encrypted':
        return `${head}: ${message.text}`;
      case 'plaintext':
        // ECP-SEC-03: say clearly that this one travelled in the clear.
        return `${head} ${this.#style('yellow', '(unencrypted)')}: ${message.text}`;
      case 'undecryptable':
        return `${head}: ${this.#style('red', `[could not decrypt this message: ${message.reason}]`)}`;
    }
  }

  /** A server notice, set apart from chat with `*` and dimmed. */
  system(event: SystemEvent): string {
    return this.notice(event.time, event.text);
  }

  /** The user list; with the change that caused it, when there is one. */
  users(users: readonly string[], time: Date, change?: Pick<UsersEvent, 'joined' | 'left'>): string {
    const parts = [`Users (${users.length}): ${users.join(', ')}`];
    if (change !== undefined) {
      for (const name of change.joined) parts.push(`+${name}`);
      for (const name of change.left) parts.push(`-${name}`);
    }
    return this.notice(time, parts.join('  '));
  }

  protocolError(event: ProtocolErrorEvent): string {
    return `${this.timestamp(event.time)} ${this.#style('yellow', `! ${event.error.message} (${event.error.detail})`)}`;
  }

  closed(event: ClosedEvent): string {
    const text = `* Disconnected: ${event.reason}`;
    return `${this.timestamp(event.time)} ${event.error === undefined ? this.#style('dim', text) : this.#style('red', text)}`;
  }

  notice(time: Date, text: string): string {
    return `${this.timestamp(time)} ${this.#style('dim', `* ${text}`)}`;
  }

  /** Help and other text that is not an event: no timestamp. */
  help(text: string): string {
    return this.#style('dim', text);
  }

  error(time: Date, text: string): string {
    return `${this.timestamp(time)} ${this.#style('red', `! ${text}`)}`;
  }

  #style(format: Style, text: string): string {
    return this.color ? styleText(format, text, { validateStream: false }) : text;
  }
}

function nameColour(name: string): StyleName {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return NAME_COLOURS[hash % NAME_COLOURS.length]!;
}

/** Whether to colour output: a TTY, and the user has not set NO_COLOR (https://no-color.org). */
export function shouldUseColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
