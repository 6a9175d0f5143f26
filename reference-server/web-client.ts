/**
 * The browser client (web-client/ at the top of the kit), served on the HTTP port of every
 * WebSocket listener: `/` is its page, the other files sit beside it. The files are read once, when
 * the server starts, into a table of exact paths, so a request never reaches the file system and
 * no path (`/../`, `%2e%2e`, a symlink) can lead out of the folder. Only GET and HEAD; every answer
 * carries a Content-Security-Policy that allows nothing but this origin's scripts, styles, images
 * and WebSocket, and no inline code.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OptionsError } from './options.ts';

/** From a clone this runs as reference-server/web-client.ts; in the package, one level deeper under dist/. */
export const WEB_CLIENT_DIR = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../web-client/' : '../../web-client/', import.meta.url),
);

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The types served; any other file in the folder (a tsconfig, a README) is not. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The page learns the ECP path of the listener that served it from this tag. */
const ENDPOINT_META = /<meta name="ecp-endpoint" content="[^"]*">/;

interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** The page's files, read from `dir`; answers the plain HTTP requests of a listener. */
export class WebClient {
  readonly #files: Map<string, StaticFile>;

  private constructor(files: Map<string, StaticFile>) {
    this.#files = files;
  }

  /** Reads the folder's servable files; a folder without index.html is an error, not an empty site. */
  static async load(dir: string = WEB_CLIENT_DIR): Promise<WebClient> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new OptionsError(
        `webClient: cannot read the browser client's files in ${dir} (${(error as NodeJS.ErrnoException).code}); turn it off with --no-web-client`,
      );
    }
    const files = new Map<string, StaticFile>();
    for (const entry of entries) {
      const contentType = CONTENT_TYPES[extname(entry.name)];
      if (!entry.isFile() || contentType === undefined) continue;
      files.set(`/${entry.name}`, staticFile(await readFile(join(dir, entry.name)), contentType));
    }
    if (!files.has('/index.html')) {
      throw new OptionsError(`webClient: ${dir} has no index.html; turn it off with --no-web-client`);
    }
    return new WebClient(files);
  }

  /**
   * The request handler of one listener, whose ECP endpoint is `endpointPath`: its page names that
   * path, and a plain request to the path itself is left to the listener (426, how to connect),
   * unless the path is `/`, where the page is what a browser wants.
   */
  handlerFor(endpointPath: string): (request: IncomingMessage, response: ServerResponse) => boolean {
    const index = this.#files.get('/index.html')!;
    const body = Buffer.from(
      index.body
        .toString('utf8')
        .replace(ENDPOINT_META, `<meta name="ecp-endpoint" content="${escapeAttribute(endpointPath)}">`),
    );
    const files = new Map(this.#files);
    const page = staticFile(body, index.contentType);
    files.set('/index.html', page);
    files.set('/', page);
    return (request, response) => {
      const path = pathOf(request.url);
      if (path === endpointPath && path !== '/') return false;
      answer(request, response, path === undefined ? undefined : files.get(path));
      return true;
    };
  }
}

function staticFile(body: Buffer, contentType: string): StaticFile {
  const digest = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return { body, contentType, etag: `"${digest}"` };
}

function answer(request: IncomingMessage, response: ServerResponse, file: StaticFile | undefined): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    plain(response, 405, 'Only GET and HEAD are served here.\n', { Allow: 'GET, HEAD' });
    return;
  }
  if (file === undefined) {
    plain(response, 404, 'Not found.\n');
    return;
  }
  // no-cache: the browser keeps a copy but asks each time, so a new server version is never stale.
  const headers = { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache', ETag: file.etag };
  if (request.headers['if-none-match'] === file.etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  response.writeHead(200, {
    ...headers,
    'Content-Type': file.contentType,
    'Content-Length': file.body.length,
  });
  response.end(request.method === 'HEAD' ? undefined : file.body);
}

function plain(
  response: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    ...extra,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  response.end(text);
}

/** The path of a request target, undecoded (so `%2e%2e` is not `..`); undefined when it is no URL path. */
function pathOf(target: string | undefined): string | undefined {
  if (target === undefined || !target.startsWith('/')) return undefined;
  try {
    return new URL(target, 'http://host').pathname;
  } catch {
    return undefined;
  }
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (char) => `&#${char.charCodeAt(0)};`);
}
