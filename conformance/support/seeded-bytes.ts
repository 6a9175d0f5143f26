/**
 * The random inputs of a scenario, from the run's seed (`ecp conformance --seed N`): SHA-256 in
 * counter mode over the seed, the scenario's identity and a counter. The same seed gives every
 * scenario the same bytes, whatever runs before it or in parallel with it; a failure seen once is
 * replayed by running again with the seed the report printed.
 */
import { createHash } from 'node:crypto';

export class SeededBytes {
  #block = 0;

  /** `scope` names the scenario (its feature file and name), so scenarios draw independent streams. */
  constructor(
    private readonly seed: number,
    private readonly scope: string,
  ) {}

  /** The next `count` bytes of the stream. */
  next(count: number): Buffer {
    const blocks: Buffer[] = [];
    let length = 0;
    while (length < count) {
      const block = createHash('sha256')
        .update(`${this.seed}\0${this.scope}\0${this.#block++}`)
        .digest();
      blocks.push(block);
      length += block.length;
    }
    return Buffer.concat(blocks).subarray(0, count);
  }

  /** `count` characters of [a-z0-9] from the stream, for texts such as a wrong password. */
  text(count: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    return [...this.next(count)].map((byte) => alphabet[byte % alphabet.length]).join('');
  }
}

/** A seed for a run that was given none: random, and printed so that the run can be replayed. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
