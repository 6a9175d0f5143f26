/**
 * What one step of a scenario leaves for a later one, each under its own name and type. A step
 * that reads a note no earlier step made is a mistake in the feature file, said as such.
 */
import type { LoadReport } from './room-load.ts';

export interface ScenarioNotes {
  /** A chat payload a member sent that a later step expects relayed unchanged. */
  payload?: string;
  /** The texts of the numbered chat messages a member sent in one write, in order. */
  numberedTexts?: string[];
  /** The texts a member sent one at a time, each after the echo of the one before. */
  textsInTurn?: string[];
  /** A distinctive wrong password a member tried, which nothing the server says or logs may repeat. */
  wrongPassword?: string;
  /** The free name two members asked for at the same time. */
  contestedName?: string;
  /** Labels of the crowd of members in the room. */
  crowd?: string[];
  /** What a member's flood sent, and how far each reader got. */
  flood?: LoadReport;
  /** What a member's burst sent, and how far each reader got. */
  burst?: LoadReport;
  /** What breaking a generated history left: the rules it broke and the transcript of the run. */
  brokenHistory?: {
    violations: { requirement: string; text: string }[];
    transcript: string;
    runs: number;
  } | null;
  /** Where the server's output stood when the scenario began: the evidence of a failure is what came after. */
  serverOutputStart?: number;
}

/** The note `key`, which an earlier step of the scenario must have made. */
export function noted<K extends keyof ScenarioNotes>(
  notes: ScenarioNotes,
  key: K,
): NonNullable<ScenarioNotes[K]> {
  const value = notes[key];
  if (value === undefined) {
    throw new Error(`a step reads the scenario's ${key}, but no earlier step of the scenario noted it`);
  }
  return value;
}
