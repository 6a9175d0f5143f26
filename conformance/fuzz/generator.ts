/**
 * Generates histories from a seed: the same seed and index give the same history, so a run is
 * reproducible from the seed it prints. The generator keeps a rough picture of who is connected
 * and who asked for which name, only to make likely-interesting steps likely (joins with a name
 * someone holds, chats from several members at once); the checker never relies on it.
 */
import type { Action, BadInput, History, Step } from './history.ts';
import { BAD_INPUTS } from './history.ts';

/** A small, fast, seeded generator (mulberry32): 32 bits of state are plenty for picking steps. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Names from a pool smaller than the number of clients, so joins with a taken name are common. */
const NAMES = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal', 'ivy', 'jo', 'kim', 'lu'];

export interface GeneratorOptions {
  clients: number;
  /** Steps per history. */
  steps: number;
}

export function generateHistory(seed: number, index: number, options: GeneratorOptions): History {
  const random = seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const names = NAMES.slice(0, Math.max(2, Math.ceil(options.clients * 0.75)));
  const joined = new Set<number>();
  const steps: Step[] = [];
  for (let i = 0; i < options.steps; i++) {
    const client = 1 + Math.floor(random() * options.clients);
    const action = nextAction(random, pick, names, joined.has(client));
    if (action.kind === 'join') joined.add(client);
    if (action.kind === 'leave' || action.kind === 'abort') joined.delete(client);
    // Most steps happen at once with the one before: that is where the races are.
    const pauseMs = random() < 0.6 ? 0 : 1 + Math.floor(random() * 25);
    steps.push({ client, pauseMs, action });
  }
  return steps;
}

function nextAction(
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
  names: readonly string[],
  joined: boolean,
): Action {
  const roll = random();
  const bad = (): Action => ({ kind: 'bad', input: pick(Object.keys(BAD_INPUTS) as BadInput[]) });
  if (!joined) {
    if (roll < 0.8) return { kind: 'join', name: pick(names) };
    if (roll < 0.9) return bad();
    return { kind: 'chat' };
  }
  if (roll < 0.55) return { kind: 'chat' };
  if (roll < 0.65) return { kind: 'leave' };
  if (roll < 0.72) return { kind: 'abort' };
  if (roll < 0.8) return bad();
  if (roll < 0.85) return { kind: 'stall', ms: 50 + Math.floor(random() * 250) };
  // A member that joins again: ignored by a correct server (ECP-ERR-04); a leave and a join.
  if (roll < 0.9) return { kind: 'join', name: pick(names) };
  return { kind: 'chat' };
}
