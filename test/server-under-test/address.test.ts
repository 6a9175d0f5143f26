import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canConnect, findFreePort, parseHostPort, waitUntilAccepting } from '../../server-under-test/address.ts';

describe('parseHostPort', () => {
  it('reads host:port, [v6]:port and a bare port', () => {
    expect(parseHostPort('127.0.0.1:8888')).toEqual({ host: '127.0.0.1', port: 8888 });
    expect(parseHostPort('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(parseHostPort('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseHostPort('8888')).toEqual({ host: '127.0.0.1', port: 8888 });
  });

  it.each(['', 'localhost', 'host:', 'host:0', 'host:65536', 'host:abc', ':-1'])('refuses %j', (text) => {
    expect(() => parseHostPort(text)).toThrow(/expected host:port/);
  });
});

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
