import { describe, expect, it } from 'vitest';
import { BlockedScenario, Prerequisites } from '../../../conformance/support/prerequisites.ts';

const fails = () => Promise.reject(new Error('no key_exchange within 2000 ms'));
const works = () => Promise.resolve('joined');

describe('Prerequisites', () => {
  it('blocks a prerequisite that failed in two scenarios in a row, naming them', async () => {
    const prerequisites = new Prerequisites();
    await expect(prerequisites.establish('joining the room', 'one', fails)).rejects.toThrow(
      'no key_exchange',
    );
    await expect(prerequisites.establish('joining the room', 'two', fails)).rejects.toThrow(
      'no key_exchange',
    );
    let attempted = false;
    const blocked = prerequisites.establish('joining the room', 'three', async () => {
      attempted = true;
      return 'joined';
    });
    await expect(blocked).rejects.toBeInstanceOf(BlockedScenario);
    await expect(blocked).rejects.toThrow(
      /^blocked: joining the room failed in scenario "one" and "two"; this scenario needs it/,
    );
    expect(attempted).toBe(false);
  });

  it('never blocks after a single failure, and a success in between starts the count again', async () => {
    const prerequisites = new Prerequisites();
    await expect(prerequisites.establish('joining the room', 'one', fails)).rejects.toThrow();
    await expect(prerequisites.establish('joining the room', 'two', works)).resolves.toBe('joined');
    await expect(prerequisites.establish('joining the room', 'three', fails)).rejects.toThrow(
      'no key_exchange',
    );
    await expect(prerequisites.establish('joining the room', 'four', works)).resolves.toBe('joined');
  });

  it('keeps prerequisites apart', async () => {
    const prerequisites = new Prerequisites();
    await expect(prerequisites.establish('joining the room', 'one', fails)).rejects.toThrow();
    await expect(prerequisites.establish('joining the room', 'two', fails)).rejects.toThrow();
    await expect(prerequisites.establish('connecting', 'three', works)).resolves.toBe('joined');
  });
});
