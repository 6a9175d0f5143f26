import { describe, expect, it } from 'vitest';
import { formatEndpoint, parseEndpoint } from '../../transport/index.ts';

describe('parseEndpoint', () => {
  it.each([
    ['tcp://127.0.0.1:8888', { transport: 'tcp', host: '127.0.0.1', port: 8888, path: '' }],
    ['tcp://localhost', { transport: 'tcp', host: 'localhost', port: 8888, path: '' }],
    ['tls://chat.example.org:8443', { transport: 'tls', host: 'chat.example.org', port: 8443, path: '' }],
    ['ws://127.0.0.1:8080/ecp', { transport: 'ws', host: '127.0.0.1', port: 8080, path: '/ecp' }],
    ['ws://127.0.0.1:8080', { transport: 'ws', host: '127.0.0.1', port: 8080, path: '/' }],
    ['wss://chat.example.org/ecp', { transport: 'wss', host: 'chat.example.org', port: 443, path: '/ecp' }],
    ['WS://[::1]:9000/a/b', { transport: 'ws', host: '::1', port: 9000, path: '/a/b' }],
    ['tcp://[::1]:0', { transport: 'tcp', host: '::1', port: 0, path: '' }],
  ])('reads %s', (text, endpoint) => {
    expect(parseEndpoint(text)).toEqual(endpoint);
  });

  it('reads host:port, [v6]:port and a bare port as plain TCP, as before URLs', () => {
    expect(parseEndpoint('127.0.0.1:8888')).toEqual({
      transport: 'tcp',
      host: '127.0.0.1',
      port: 8888,
      path: '',
    });
    expect(parseEndpoint('localhost:1')).toMatchObject({ host: 'localhost', port: 1 });
    expect(parseEndpoint('[::1]:9000')).toMatchObject({ host: '::1', port: 9000 });
    expect(parseEndpoint('8888')).toMatchObject({ host: '127.0.0.1', port: 8888 });
  });

  it.each([
    ['', /expected a URL/],
    ['localhost', /expected a URL/],
    ['host:', /expected a URL/],
    ['host:65536', /port out of range/],
    ['host:abc', /expected a URL/],
    ['http://host:80/ecp', /unknown scheme 'http:\/\/' \(a WebSocket endpoint is ws:\/\//],
    ['https://host/ecp', /wss:\/\//],
    ['udp://host:1', /unknown scheme 'udp:\/\/'/],
    ['tcp://host:1/path', /tcp:\/\/ takes no path/],
    ['ws://user:pw@host:1/', /credentials/],
    ['ws://host:1/?a=b', /no query/],
  ])('refuses %j with a reason', (text, why) => {
    expect(() => parseEndpoint(text)).toThrow(why);
    try {
      parseEndpoint(text);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('ECP_BAD_ENDPOINT');
    }
  });

  it('formats the canonical URL back', () => {
    for (const text of ['tcp://127.0.0.1:8888', 'ws://[::1]:8080/ecp', 'wss://example.org:443/x']) {
      expect(formatEndpoint(parseEndpoint(text))).toBe(text);
    }
  });
});
