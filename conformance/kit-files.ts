/**
 * Where the kit's own files are (the features, the specification), found from this module rather
 * than the current directory, so `ecp conformance` runs from anywhere. From a clone this module
 * runs as conformance/kit-files.ts through tsx; in the installed package, as the compiled
 * dist/conformance/kit-files.js, one level deeper, while features/ and docs/ stay at the top.
 */
import { fileURLToPath } from 'node:url';

/** True in the installed package (compiled JavaScript, no TypeScript loader). */
export const RUNS_COMPILED = !import.meta.url.endsWith('.ts');

/** The kit's top directory: the clone, or the installed package. */
export const KIT_ROOT = fileURLToPath(new URL(RUNS_COMPILED ? '../..' : '..', import.meta.url));
