#!/usr/bin/env node
// Entry point, the same file in a clone and in the installed package. In a clone the TypeScript
// sources sit next to it: it runs them through tsx, so there is no build step. The package ships
// no sources (nor tsx): it runs the JavaScript that `npm run build` compiled from them into dist/.
// Deciding by the sources, not by dist/, means a stale dist/ in a clone is never run.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./main.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
} else {
  await import('../dist/bin/main.js');
}
