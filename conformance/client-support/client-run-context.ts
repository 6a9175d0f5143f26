/**
 * What every client scenario of one cucumber process shares: the requirements (for failure
 * messages) and, over TLS, the room's certificates and the CA file the client is given as `{ca}`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDevCertificate } from '../../server-under-test/index.ts';
import { usesTls } from '../../transport/index.ts';
import { loadRequirements, type Requirement } from '../requirements.ts';
import type { ClientWorldParameters } from './client-parameters.ts';
import type { RoomCertificate } from './client-world.ts';

type Pem = { cert: string; key: string };

export interface ClientRunContext {
  readonly requirements: ReadonlyMap<string, Requirement>;
  /** Over TLS: the room's certificate for each case; `{ca}` trusts `matching` and `other-host`. */
  readonly certificates: Record<RoomCertificate, Pem> | undefined;
  readonly caFile: string | undefined;
}

let context: ClientRunContext | undefined;
let folder: string | undefined;

export async function openClientRunContext(parameters: ClientWorldParameters): Promise<void> {
  let certificates: ClientRunContext['certificates'];
  let caFile: string | undefined;
  if (usesTls(parameters.transport)) {
    const [matching, otherHost, untrusted] = await Promise.all([
      makeDevCertificate(),
      makeDevCertificate({ hosts: ['not-this-host.invalid'] }),
      makeDevCertificate(),
    ]);
    certificates = { matching, 'other-host': otherHost, untrusted };
    folder = mkdtempSync(join(tmpdir(), 'ecp-client-ca-'));
    caFile = join(folder, 'ca.pem');
    // Trusted: the room's certificate, and one that names another host (to check the name).
    writeFileSync(caFile, `${matching.cert.trim()}\n${otherHost.cert.trim()}\n`);
  }
  context = {
    requirements: new Map(loadRequirements(parameters.requirementsPath).map((item) => [item.id, item])),
    certificates,
    caFile,
  };
}

export function closeClientRunContext(): void {
  if (folder) rmSync(folder, { recursive: true, force: true });
  folder = undefined;
  context = undefined;
}

export function clientRunContext(): ClientRunContext {
  if (!context) throw new Error('the client run context is not open (BeforeAll did not run)');
  return context;
}
