/**
 * What `ecp bench http` does once its arguments are parsed: the target (this kit's reference server
 * spawned, or a running one), the runs, the report on stdout and in --json / --md.
 * Exit codes as `ecp bench`: 0 done, 1 the bench could not run, 2 invalid options.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readAdminToken } from '../reference-server/admin/auth.ts';
import type { HttpArgs } from './command.ts';
import { resolveHttpConfig, runHttpBench } from './http-bench.ts';
import { type HttpBenchTarget, startReferenceServerForHttp } from './http-target.ts';
import { formatHttpMarkdown, formatHttpText } from './report-format.ts';
import type { HttpBenchConfig } from './report-schema.ts';

const EXIT_FAILED = 1;
const EXIT_INVALID_OPTIONS = 2;

export async function runHttpCommand(args: HttpArgs): Promise<number> {
  let config: HttpBenchConfig;
  let running: HttpBenchTarget | undefined;
  try {
    config = resolveHttpConfig({
      clients: args.clients,
      connections: args.connections,
      rate: args.rate,
      getConnections: args['get-connections'],
      durationSeconds: args.duration,
      runs: args.runs,
      drainSeconds: args.drain,
    });
    running = runningTarget(args);
  } catch (error) {
    console.error(`ecp bench http: ${(error as Error).message}`);
    return EXIT_INVALID_OPTIONS;
  }
  let stop = async () => {};
  try {
    let target = running;
    if (target === undefined) {
      const started = await startReferenceServerForHttp();
      target = started.target;
      stop = started.stop;
    }
    const report = await runHttpBench(target, config, args.label ?? null, {
      runStarted: (run, runs) => {
        if (!args.quiet)
          process.stderr.write(`run ${run}/${runs}: ${config.durationSeconds} s of HTTP load...\n`);
      },
    });
    process.stdout.write(formatHttpText(report));
    if (args.json) write(args.json, `${JSON.stringify(report, null, 2)}\n`);
    if (args.md) write(args.md, formatHttpMarkdown(report));
    return 0;
  } catch (error) {
    console.error(`ecp bench http: ${(error as Error).message}`);
    return EXIT_FAILED;
  } finally {
    await stop();
  }
}

/** A running server, when --admin-url names one; the flags that only go with it, checked. */
function runningTarget(args: HttpArgs): HttpBenchTarget | undefined {
  const only = ['token-file', 'target', 'password', 'metrics-url', 'page-url'] as const;
  if (args['admin-url'] === undefined) {
    const given = only.filter((flag) => args[flag] !== undefined);
    if (given.length > 0) throw new RangeError(`--${given[0]} goes with --admin-url (a running server)`);
    return undefined;
  }
  if (args.target === undefined)
    throw new RangeError('--admin-url needs --target, the ECP URL the clients join');
  const password = args.password ?? process.env.ECP_PASSWORD;
  if (password === undefined || password === '')
    throw new RangeError('--admin-url needs --password (or ECP_PASSWORD)');
  const adminUrl = new URL(args['admin-url']).origin;
  return {
    kind: 'running',
    description: `server at ${args.target}`,
    ecpUrl: args.target,
    password,
    adminUrl,
    token: readAdminToken({ file: args['token-file'], env: process.env.ECP_ADMIN_TOKEN }, '--token-file'),
    metricsUrl: args['metrics-url'],
    pageUrl: args['page-url'],
  };
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
