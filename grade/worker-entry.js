// A grading worker's entry: a forked child does not inherit the parent's tsx loader, so this
// plain-JS file registers it before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
