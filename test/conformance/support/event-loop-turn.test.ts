import { describe, expect, it } from 'vitest';
import { currentTurn } from '../../../conformance/support/event-loop-turn.ts';

describe('currentTurn', () => {
  it('is the same within one turn of the event loop and grows once the loop has gone round', async () => {
    const first = currentTurn();
    expect(currentTurn()).toBe(first);
    await Promise.resolve(); // a microtask is still the same turn
    expect(currentTurn()).toBe(first);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(currentTurn()).toBeGreaterThan(first);
  });
});
