/**
 * The console's web server: Node's http module, read-only routes, a random access token (given once as
 * `?token=`, then kept in an HttpOnly SameSite=Strict cookie, as notebook servers do), a strict
 * Content-Security-Policy (scripts and styles only from the server's own files), no CORS headers.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ManifestNotFoundError, UsageError } from '../errors';
import { parseSince } from '../format';
import { parseStatus } from '../ops/manifests';
import { oneLineReason } from '../errors';
import { ConsoleSources, datasetModel, manifestPageModel, manifestsModel, overviewModel } from './model';
import { datasetPage, errorPage, manifestPage, manifestsPage, overviewPage } from './pages';

/** The cookie that carries the token after the first visit. */
export const TOKEN_COOKIE = 'pipeline_console_token';

/**
 * The page may load its own script and style sheet and nothing else: no inline script or style, no other origin,
 * no framing, forms only to itself.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const STATIC_DIR = path.join(__dirname, 'static');
const STATIC: Record<string, { type: string; body: Buffer }> = {
  '/static/console.css': { type: 'text/css; charset=utf-8', body: readFileSync(path.join(STATIC_DIR, 'console.css')) },
  '/static/console.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(path.join(STATIC_DIR, 'console.js')) },
};

export interface ConsoleServerOptions {
  readonly sources: ConsoleSources;
  /** Address to listen on. @default 127.0.0.1 */
  readonly host?: string;
  /** Port; 0 for any free one. @default 0 */
  readonly port?: number;
  /** The access token. @default 32 random bytes, base64url */
  readonly token?: string;
  /** Default window of the overview and the manifests table. @default 24h */
  readonly defaultSince?: string;
}

export interface ConsoleServer {
  readonly url: string;
  /** The URL with the token, to open once. */
  readonly urlWithToken: string;
  readonly token: string;
  readonly server: Server;
  close(): Promise<void>;
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function sameSecret(a: string | undefined | null, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(body)), ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Hosts a request may name when the server listens on loopback (a page of another site resolved to 127.0.0.1 may not). */
function allowedHost(hostHeader: string | undefined, listenHost: string, port: number): boolean {
  if (!['127.0.0.1', 'localhost', '::1'].includes(listenHost)) return true;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(hostHeader ?? '');
}

/** Starts the server; resolves once it listens. */
export async function startConsoleServer(opts: ConsoleServerOptions): Promise<ConsoleServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const host = opts.host ?? '127.0.0.1';
  const defaultSince = opts.defaultSince ?? '24h';
  const { sources } = opts;
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!allowedHost(req.headers.host, host, port)) return send(res, 421, 'text/plain; charset=utf-8', 'unexpected Host header\n');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain; charset=utf-8', 'the console is read-only\n', { Allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const given = url.searchParams.get('token');
    if (!sameSecret(cookies(req)[TOKEN_COOKIE], token)) {
      if (!sameSecret(given, token)) {
        return send(res, 401, 'text/plain; charset=utf-8', '401: open the URL with the token that `pipeline console` printed\n');
      }
    }
    if (given !== null) {
      // The token leaves the address bar (and the history) at once; the cookie carries it from now on.
      url.searchParams.delete('token');
      return send(res, 303, 'text/plain; charset=utf-8', '', {
        Location: `${url.pathname}${url.search}`,
        'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (url.pathname === '/favicon.ico') return send(res, 204, 'image/x-icon', '');
    const asset = STATIC[url.pathname];
    if (asset) return send(res, 200, asset.type, asset.body);
    const now = sources.ctx.now();
    const sinceText = url.searchParams.get('since') || defaultSince;
    const page = (body: string) => send(res, 200, 'text/html; charset=utf-8', body);
    let m: RegExpExecArray | null;
    if (url.pathname === '/') return page(overviewPage(await overviewModel(sources, parseSince(sinceText, now)), now));
    if (url.pathname === '/manifests') {
      const since = parseSince(sinceText, now);
      const dataset = url.searchParams.get('dataset') || undefined;
      const statusText = url.searchParams.get('status') || undefined;
      const status = statusText ? parseStatus(statusText) : undefined;
      const list = await manifestsModel(sources, { since, dataset, status });
      return page(manifestsPage(list, { since: since.toISOString(), sinceText, dataset, status }, sources.ctx.target.mode, now));
    }
    if ((m = /^\/manifests\/([^/]+)$/.exec(url.pathname))) {
      return page(manifestPage(await manifestPageModel(sources, decodeURIComponent(m[1]))));
    }
    if ((m = /^\/datasets\/([^/]+)$/.exec(url.pathname))) {
      const since = parseSince(url.searchParams.get('since') || '7d', now);
      return page(datasetPage(await datasetModel(sources, decodeURIComponent(m[1]), since), sources.ctx.target.mode, now));
    }
    return send(res, 404, 'text/html; charset=utf-8', errorPage(404, `no page ${url.pathname}`));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof ManifestNotFoundError ? 404 : err instanceof UsageError || err instanceof URIError ? 400 : 500;
      if (!res.headersSent)
        send(res, status, 'text/html; charset=utf-8', errorPage(status, oneLineReason(err, sources.ctx.target.endpoint)));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    urlWithToken: `${url}?token=${token}`,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
