import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canConnect, findFreePort, waitUntilAccepting } from '../../transport/ports.ts';

describe('reaching a port', () => {
  it('finds a free port, sees nothing there, then sees a listener once it starts', async () => {
    const port = await findFreePort();
    expect(await canConnect({ host: '127.0.0.1', port })).toBe(false);
    const server = createServer((socket) => socket.destroy());
    setTimeout(() => server.listen(port, '127.0.0.1'), 150);
    try {
      expect(await waitUntilAccepting({ host: '127.0.0.1', port }, 5000)).toBe(true);
    } finally {
      server.close();
    }
  });

  it('gives up when told to, without waiting for the timeout', async () => {
    const port = await findFreePort();
    const started = Date.now();
    expect(await waitUntilAccepting({ host: '127.0.0.1', port }, 20_000, () => true)).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
