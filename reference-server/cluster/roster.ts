/**
 * The whole room's members as the log says, in join order: name → owner. Every node applies the
 * same entries in the same order, so every node holds the same roster and sends the same user_list.
 */
export class Roster {
  #owners = new Map<string, string>();

  get size(): number {
    return this.#owners.size;
  }

  /** Names in join order (a copy). */
  names(): string[] {
    return [...this.#owners.keys()];
  }

  has(name: string): boolean {
    return this.#owners.has(name);
  }

  ownerOf(name: string): string | undefined {
    return this.#owners.get(name);
  }

  join(name: string, owner: string): void {
    this.#owners.delete(name);
    this.#owners.set(name, owner);
  }

  /** Removes the name if this owner holds it; false if not (a stale or repeated leave). */
  leave(name: string, owner: string): boolean {
    if (this.#owners.get(name) !== owner) return false;
    this.#owners.delete(name);
    return true;
  }

  /** Starts over from a snapshot: names in join order with their owners. */
  replace(names: string[], owners: string[]): void {
    this.#owners = new Map(names.map((name, i) => [name, owners[i] ?? '']));
  }
}
