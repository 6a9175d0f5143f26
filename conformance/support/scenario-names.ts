/**
 * The names of one scenario: the username each label joins with (unique per run, worker and
 * scenario, so scenarios can share a running server), the other names it sends, and what lets a
 * step tell this scenario's traffic from another's on a shared server.
 */
import type { ReceivedLine } from './received-line.ts';

/** What the names need of a client: the names its handshakes asked for, oldest first. */
export interface NameAsker {
  readonly requestedNames: readonly string[];
}

export class ScenarioNames {
  readonly #names = new Map<string, string>();
  /** Names sent in handshakes other than the clients' own (e.g. a second handshake's). */
  readonly #otherNames = new Set<string>();

  /**
   * `tag` ends every name (e.g. `q7x.12`); `clients` are the scenario's current clients by label,
   * whose handshakes may ask for other names than their own.
   */
  constructor(
    private readonly tag: string,
    private readonly clients: ReadonlyMap<string, NameAsker>,
  ) {}

  /** The username a label joins with: unique per run, worker and scenario, e.g. `alice-q7x.12`. */
  nameOf(label: string): string {
    let name = this.#names.get(label);
    if (!name) {
      name = `${label}-${this.tag}`;
      this.#names.set(label, name);
    }
    return name;
  }

  /** The name a label was (or will be) admitted with: its last requested name, else its own. */
  memberName(label: string): string {
    return this.clients.get(label)?.requestedNames.at(-1) ?? this.nameOf(label);
  }

  /** A unique name for something that is not a client (e.g. the name of a second handshake). */
  extraName(word: string): string {
    const name = `${word}-${this.tag}`;
    this.#otherNames.add(name);
    return name;
  }

  /** Replaces `{alice}` in a text from a feature file by alice's username. */
  fill(template: string): string {
    return template.replace(/\{([a-z0-9]+)\}/g, (_all, label: string) => this.memberName(label));
  }

  /** Whether a line is traffic about people outside this scenario (another scenario on a shared server). */
  isForeign(line: ReceivedLine): boolean {
    const message = line.message;
    if (!message) return false;
    if (message.type === 'message') return !this.#isOurs(message.sender);
    if (message.type === 'system') {
      const about = /^(.*) has (?:joined|left) the chat$/s.exec(message.message);
      return about !== null && !this.#isOurs(about[1]!);
    }
    return false;
  }

  #isOurs(name: string): boolean {
    return (
      [...this.#names.values()].includes(name) ||
      this.#otherNames.has(name) ||
      [...this.clients.values()].some((client) => client.requestedNames.includes(name))
    );
  }
}
