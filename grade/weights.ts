/**
 * The grading scheme: points per lab and what a flaky scenario earns, from a small JSON or YAML
 * file (`--weights`), for example:
 *
 *   labs: { 1: 10, 2: 10, 3: 15, 4: 15, 5: 15, 6: 20, 7: 15 }
 *   flaky: 0.5
 *
 * Without a file every lab is worth 10 points and a flaky scenario half a pass.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface Weights {
  /** Lab number → points; the labs a weights file names are the ones graded by default. */
  labs: Map<number, number>;
  /** The share of a pass a flaky scenario earns, 0 to 1. */
  flaky: number;
}

export const DEFAULT_LAB_WEIGHT = 10;
export const DEFAULT_FLAKY_CREDIT = 0.5;

export function loadWeights(path: string): Weights {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8')); // YAML is a superset of JSON
  } catch (error) {
    throw new RangeError(`cannot read the weights file ${path}: ${(error as Error).message}`);
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) {
    throw new RangeError(`${path}: expected { labs: { 1: 10, ... }, flaky: 0.5 }`);
  }
  const { labs, flaky, ...rest } = document as { labs?: unknown; flaky?: unknown };
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new RangeError(`${path}: unknown key(s) ${unknown.join(', ')}; known: labs, flaky`);
  if (!labs || typeof labs !== 'object' || Array.isArray(labs)) {
    throw new RangeError(`${path}: 'labs' maps lab numbers to points, e.g. labs: { 1: 10, 2: 15 }`);
  }
  const weights = new Map<number, number>();
  for (const [key, value] of Object.entries(labs)) {
    const lab = Number(key);
    if (!Number.isInteger(lab) || lab < 1) throw new RangeError(`${path}: '${key}' is not a lab number`);
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new RangeError(`${path}: lab ${key} needs a number of points >= 0, got ${JSON.stringify(value)}`);
    }
    weights.set(lab, value);
  }
  const credit = flaky ?? DEFAULT_FLAKY_CREDIT;
  if (typeof credit !== 'number' || credit < 0 || credit > 1) {
    throw new RangeError(`${path}: 'flaky' is the share of a pass a flaky scenario earns, 0 to 1`);
  }
  return { labs: weights, flaky: credit };
}
