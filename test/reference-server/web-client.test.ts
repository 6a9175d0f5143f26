/**
 * The browser client's files on a WebSocket listener's HTTP port: what is served, with which
 * headers, and what is not (other methods, other paths, any way out of the folder); the ECP
 * endpoint beside it is untouched.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type EcpServer, startServer } from '../../reference-server/index.ts';
import { CONTENT_SECURITY_POLICY, WebClient } from '../../reference-server/web-client.ts';
import { connect } from '../../transport/index.ts';

const servers: EcpServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(listen: string[], webClient?: boolean): Promise<EcpServer> {
  const server = await startServer({
    listen,
    password: 'secret123',
    logLevel: 'silent',
    ...(webClient === undefined ? {} : { webClient }),
  });
  servers.push(server);
  return server;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request: the path goes out exactly as written (fetch would resolve `..` first). */
function get(
  port: number,
  path: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

const portOf = (server: EcpServer, index = 0) => Number(new URL(server.endpoints[index]!).port);

describe('the browser client on a ws:// listener', () => {
  it('serves the page at / with a strict CSP, its content type and the endpoint path it should use', async () => {
    const server = await serve(['ws://127.0.0.1:0/chat']);
    const page = await get(server.port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<meta name="ecp-endpoint" content="/chat">');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(page.body).not.toMatch(/<style|style="/);
    expect(server.webClientUrls).toEqual([`http://127.0.0.1:${server.port}/`]);
  });

  it.each([
    ['/index.html', 'text/html; charset=utf-8'],
    ['/app.js', 'text/javascript; charset=utf-8'],
    ['/crypto.js', 'text/javascript; charset=utf-8'],
    ['/style.css', 'text/css; charset=utf-8'],
    ['/favicon.svg', 'image/svg+xml'],
  ])('serves %s as %s', async (path, type) => {
    const server = await serve(['ws://127.0.0.1:0/ecp']);
    const answer = await get(server.port, `${path}?v=1`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe(type);
    expect(answer.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  });

  it('answers HEAD without a body, and a matching If-None-Match with 304', async () => {
    const server = await serve(['ws://127.0.0.1:0/ecp']);
    const head = await get(server.port, '/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    const etag = String(head.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await get(server.port, '/app.js', 'GET', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect((await get(server.port, '/app.js', 'GET', { 'If-None-Match': '"other"' })).status).toBe(200);
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])(
    'refuses %s with 405 and Allow: GET, HEAD',
    async (method) => {
      const server = await serve(['ws://127.0.0.1:0/ecp']);
      const answer = await get(server.port, '/', method);
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD');
    },
  );

  it.each([
    '/../package.json',
    '/..%2fpackage.json',
    '/%2e%2e/package.json',
    '/%2e%2e%2fpackage.json',
    '/web-client/app.js',
    '/tsconfig.json',
    '/.git/config',
    '/app.js%00.html',
    '//etc/passwd',
    '/nothing-here',
  ])('answers %s with 404 and nothing from outside the folder', async (path) => {
    const server = await serve(['ws://127.0.0.1:0/ecp']);
    const answer = await get(server.port, path);
    // `//etc/passwd` parses as host "etc", path "/passwd": not a file either.
    expect(answer.status).toBe(404);
    expect(answer.body).toBe('Not found.\n');
    expect(answer.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });

  it('leaves a plain request to the ECP path to the listener (426), and upgrades there as before', async () => {
    const server = await serve(['ws://127.0.0.1:0/ecp']);
    const plain = await get(server.port, '/ecp');
    expect(plain.status).toBe(426);
    const connection = await connect(server.endpoints[0]!);
    connection.destroy();
  });

  it('serves the page at / even when / is the ECP path (the upgrade still goes to ECP)', async () => {
    const server = await serve(['ws://127.0.0.1:0/']);
    const page = await get(server.port, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<meta name="ecp-endpoint" content="/">');
    const connection = await connect(`ws://127.0.0.1:${server.port}/`);
    connection.destroy();
  });

  it('gives each WebSocket listener its own endpoint path, and nothing on a TCP listener', async () => {
    const server = await serve(['tcp://127.0.0.1:0', 'ws://127.0.0.1:0/one', 'ws://127.0.0.1:0/two']);
    expect((await get(portOf(server, 1), '/')).body).toContain('content="/one"');
    expect((await get(portOf(server, 2), '/')).body).toContain('content="/two"');
    expect(server.webClientUrls).toHaveLength(2);
  });

  it('is off with webClient: false: the listener answers every plain request with 426 as before', async () => {
    const server = await serve(['ws://127.0.0.1:0/ecp'], false);
    expect((await get(server.port, '/')).status).toBe(426);
    expect((await get(server.port, '/app.js')).status).toBe(426);
    expect(server.webClientUrls).toEqual([]);
  });
});

describe('WebClient.load', () => {
  it('serves only index.html and files of known types from the folder it is given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecp-web-'));
    try {
      await writeFile(join(dir, 'index.html'), '<meta name="ecp-endpoint" content="/ecp">');
      await writeFile(join(dir, 'notes.txt'), 'not served');
      const client = await WebClient.load(dir);
      const handler = client.handlerFor('/x"<y');
      const answers: Array<{ status: number; body: string }> = [];
      const response = (status: number) => ({
        writeHead(code: number) {
          status = code;
          return this;
        },
        end(body?: Buffer | string) {
          answers.push({ status, body: body === undefined ? '' : body.toString() });
        },
      });
      for (const path of ['/', '/notes.txt']) {
        handler({ url: path, method: 'GET', headers: {} } as never, response(0) as never);
      }
      expect(answers).toEqual([
        { status: 200, body: '<meta name="ecp-endpoint" content="/x&#34;&#60;y">' },
        { status: 404, body: 'Not found.\n' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a folder without index.html, and a missing folder, saying how to turn it off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecp-web-'));
    try {
      await expect(WebClient.load(dir)).rejects.toThrow(
        /has no index.html; turn it off with --no-web-client/,
      );
      await expect(WebClient.load(join(dir, 'missing'))).rejects.toThrow(/ENOENT.*--no-web-client/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
