// A load worker thread's entry: worker threads do not inherit the main thread's tsx loader, so
// this plain-JS file registers it before loading the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
