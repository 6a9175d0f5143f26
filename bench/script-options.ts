/** Option parsing shared by the hand-run bench scripts (soak.ts, faults.ts). */

/** A numeric option: its text as a number of at least `min`, or a RangeError that names the flag. */
export function numberOption(name: string, text: string | undefined, min: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min)
    throw new RangeError(`--${name} must be a number >= ${min}, got ${text}`);
  return value;
}
