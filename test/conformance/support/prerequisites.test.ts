import { describe, expect, it } from 'vitest';
import { BlockedScenario, Prerequisites } from '../../../conformance/support/prerequisites.ts';

const fails = () => Promise.reject(new Error('no key_exchange within 2000 ms'));
const works = () => Promise.resolve('joined');

describe('Prerequisites', () => {
  it('blocks a prerequisite that failed in two scenarios and never succeeded, naming them', async () => {
    const prerequisites = new Prerequisites();
    await expect(prerequisites.establish('being admitted', 'one', fails)).rejects.toThrow('no key_exchange');
    await expect(prerequisites.establish('being admitted', 'two', fails)).rejects.toThrow('no key_exchange');
    let attempted = false;
    const blocked = prerequisites.establish('being admitted', 'three', async () => {
      attempted = true;
      return 'joined';
    });
    await expect(blocked).rejects.toBeInstanceOf(BlockedScenario);
    await expect(blocked).rejects.toThrow(
      /^blocked: being admitted failed in scenario "one" and "two"; this scenario needs it/,
    );
    expect(attempted).toBe(false);
  });

  it('never blocks after a single failure, nor once it has worked', async () => {
    const prerequisites = new Prerequisites();
    await expect(prerequisites.establish('joining the room', 'one', fails)).rejects.toThrow();
    await expect(prerequisites.establish('joining the room', 'two', works)).resolves.toBe('joined');
    for (const scenario of ['three', 'four', 'five'])
      await expect(prerequisites.establish('joining the room', scenario, fails)).rejects.toThrow('no key');
    await expect(prerequisites.establish('joining the room', 'six', works)).resolves.toBe('joined');
  });

  it('keeps prerequisites apart', async () => {
    const prerequisites = new Prerequisites();
    await expect(prerequisites.establish('being admitted', 'one', fails)).rejects.toThrow();
    await expect(prerequisites.establish('being admitted', 'two', fails)).rejects.toThrow();
    await expect(prerequisites.establish('connecting', 'three', works)).resolves.toBe('joined');
  });
});
