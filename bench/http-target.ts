/**
 * Where `ecp bench http` sends its load (HttpBenchTarget), and this kit's reference server started
 * for it in a process of its own, with every listener the bench reaches on a free port.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTarget, shellQuote, type Target } from '../server-under-test/index.ts';
import { findFreePort, formatEndpoint, waitUntilAccepting } from '../transport/index.ts';

/** How long the spawned server may take to open its metrics and admin ports after its listeners. */
const HTTP_PORTS_TIMEOUT_MS = 10_000;

/** Where the load goes. */
export interface HttpBenchTarget {
  kind: 'spawned' | 'running';
  description: string;
  /** The ECP endpoint the counting clients join. */
  ecpUrl: string;
  password: string;
  /** The admin API's base URL, and its token. */
  adminUrl: string;
  token: string;
  /** GET under load: the Prometheus endpoint, and the web client's page (if the server serves one). */
  metricsUrl?: string | undefined;
  pageUrl?: string | undefined;
}

/** The reference server of this kit, started in a process of its own with everything the bench reaches. */
export async function startReferenceServerForHttp(): Promise<{
  target: HttpBenchTarget;
  stop(): Promise<void>;
}> {
  const directory = mkdtempSync(join(tmpdir(), 'ecp-bench-http-'));
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(directory, 'admin.token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const [wsPort, adminPort, metricsPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const password = randomBytes(12).toString('base64url');
  let server: Target;
  try {
    // The kit picks the TCP port ({port}) and waits for it to accept; the server opens its metrics
    // and admin ports after its listeners, so those are waited for here.
    server = await openTarget({
      kind: 'spawned',
      password,
      command: [
        shellQuote(process.execPath),
        shellQuote(kitEntryPoint()),
        'server --password {password} --log-level warn --listen tcp://127.0.0.1:{port}',
        `--listen ws://127.0.0.1:${wsPort}/ecp --metrics-port ${metricsPort}`,
        `--admin-port ${adminPort} --admin-token-file ${shellQuote(tokenFile)}`,
      ].join(' '),
    });
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  try {
    await waitUntilServing([wsPort, metricsPort, adminPort]);
  } catch (error) {
    await server.close();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    target: {
      kind: 'spawned',
      description: `reference server (spawned) at ${formatEndpoint(server.endpoint)}`,
      ecpUrl: formatEndpoint(server.endpoint),
      password,
      adminUrl: `http://127.0.0.1:${adminPort}`,
      token,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      pageUrl: `http://127.0.0.1:${wsPort}/`,
    },
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until a spawned server's other ports accept connections: the kit waits for its first
 * listener only, and the server opens its other listeners, /metrics and the admin API after it.
 */
export async function waitUntilServing(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    if (!(await waitUntilAccepting({ host: '127.0.0.1', port }, HTTP_PORTS_TIMEOUT_MS))) {
      throw new Error(`the spawned server did not open port ${port} within ${HTTP_PORTS_TIMEOUT_MS} ms`);
    }
  }
}

/** bin/ecp.js of this kit: beside the sources (bench/), or two levels up from the compiled dist/bench/. */
function kitEntryPoint(): string {
  const candidates = [
    join(import.meta.dirname, '..', 'bin', 'ecp.js'),
    join(import.meta.dirname, '..', '..', 'bin', 'ecp.js'),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`cannot find bin/ecp.js near ${import.meta.dirname}`);
  return found;
}
