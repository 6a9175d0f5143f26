/**
 * yargs for every command line of the kit (`ecp` and the bench scripts), loaded through its
 * CommonJS build.
 *
 * Why yargs 17 and not 18: 18's ES module build imports cliui 9, whose string-width builds an
 * `Intl.Segmenter` (ICU's break-iterator data) and a large emoji regular expression as it loads.
 * Every `ecp` process paid about 10 MB of memory for it before parsing a single argument, and a
 * long-running `ecp server` kept it (idle RSS 72 against 62 MB, docs/benchmarks.md, "A lean
 * server"). 17's help and error texts are the same, byte for byte, for every command.
 *
 * Why `require`: 17's ES module entry lays out help with cliui's dependency-free fallback, which
 * breaks lines inside words; its CommonJS build uses wrap-ansi, as 18 does.
 */
import { createRequire } from 'node:module';
import type YargsFactory from 'yargs/yargs';

const require = createRequire(import.meta.url);

export const yargs = require('yargs/yargs') as typeof YargsFactory;
export const { hideBin } = require('yargs/helpers') as typeof import('yargs/helpers');
