/**
 * The reference client against the in-process reference server: the shared chat scenarios, and
 * what only our server does (refusing bad usernames with an auth_error).
 */
import { describe, expect, it } from 'vitest';
import { EcpClient } from '../../reference-client/index.ts';
import { startServer } from '../../reference-server/index.ts';
import { onlyOnce } from '../support/waiting.ts';
import { describeChatScenarios, keyPair } from './chat-scenarios.ts';

const PASSWORD = 'secret123';

async function startReferenceServer() {
  const server = await startServer({ host: '127.0.0.1', port: 0, password: PASSWORD, logLevel: 'silent' });
  return { port: server.port, password: PASSWORD, close: onlyOnce(() => server.close()) };
}

describeChatScenarios('the in-process reference server', startReferenceServer);

describe('reference client against the in-process reference server', () => {
  it('an invalid username is an authentication failure', async () => {
    const target = await startReferenceServer();
    try {
      const client = new EcpClient({
        host: '127.0.0.1',
        port: target.port,
        username: 'x'.repeat(33),
        password: PASSWORD,
        keyPair: await keyPair(0),
      });
      await expect(client.connect()).rejects.toMatchObject({ code: 'ECP_AUTH_FAILED' });
    } finally {
      await target.close();
    }
  });
});
