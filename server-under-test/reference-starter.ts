/** The kit's default embedded server: the reference server, in this process. */
import { createLogger, startServer } from '../reference-server/index.ts';
import { formatEndpoint } from '../transport/index.ts';
import type { EmbeddedStarter } from './target.ts';

/** Starts the reference server on `endpoint`; what it logs goes to `output`. */
export const startReferenceServer: EmbeddedStarter = async ({ endpoint, password, limits, output, tls }) =>
  startServer({
    listen: [formatEndpoint(endpoint)],
    ...(tls === undefined ? {} : { tls }),
    password,
    limits,
    logger: createLogger('info', { write: (line: string) => output.append(Buffer.from(line)) }),
  });
