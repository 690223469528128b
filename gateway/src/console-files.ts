/**
 * The web console's built files (console/dist), served by the gateway on its own origin so that the console's
 * only door to the data is /graphql with its auth. The files are public: read once at start into memory (a few
 * hundred KB), answered without touching the disk. Hashed assets are immutable; index.html is never cached, so a
 * new build is seen at once; the console's routes (deep links such as /traces/<id>) answer index.html.
 */
import { readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from '@heimdall/shared/http';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Scripts, styles and data only from this origin; no inline script or style element, no plugin, no framing. uPlot
 * and Preact set styles through the DOM's style properties, which style-src does not govern.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths the console routes itself: a reload or a deep link there answers index.html. */
const CONSOLE_ROUTES = ['/signin', '/logs', '/traces', '/services', '/alerts'];

interface Asset {
  readonly body: Buffer;
  /** The body gzipped once at start: a third of the bytes for a browser that accepts it. */
  readonly gzipped: Buffer;
  readonly type: string;
}

export interface ConsoleFiles {
  readonly index: Buffer;
  readonly assets: ReadonlyMap<string, Asset>;
}

/** The built console in `dir`; undefined when it has not been built (npm run build). */
export async function loadConsoleFiles(dir: string): Promise<ConsoleFiles | undefined> {
  let index: Buffer;
  try {
    index = await readFile(join(dir, 'index.html'));
  } catch {
    return undefined;
  }
  const assets = new Map<string, Asset>();
  const names = await readdir(join(dir, 'assets')).catch(() => [] as string[]);
  for (const name of names) {
    const body = await readFile(join(dir, 'assets', name));
    assets.set(name, {
      body,
      gzipped: gzipSync(body, { level: 9 }),
      type: TYPES[extname(name)] ?? 'application/octet-stream',
    });
  }
  return { index, assets };
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

function sendIndex(reply: FastifyReply, files: ConsoleFiles | undefined): FastifyReply {
  if (files === undefined) {
    return reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send('The console is not built: run `npm run build` (npm start does it).\n');
  }
  return securityHeaders(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(files.index);
}

export function isConsoleRoute(path: string): boolean {
  return path === '/' || CONSOLE_ROUTES.some((route) => path === route || path.startsWith(`${route}/`));
}

/**
 * Serves the console at / and its routes. /metrics stays the Prometheus endpoint for scrapers; a browser asking
 * for HTML there (a reload of the console's metrics view) gets the console.
 */
export function registerConsole(app: FastifyInstance, files: ConsoleFiles | undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    const path = request.url.split('?', 1)[0]!;
    if (path === '/metrics' && (request.headers.accept ?? '').includes('text/html')) return sendIndex(reply, files);
    if (isConsoleRoute(path)) return sendIndex(reply, files);
  });
  app.get('/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const asset = files?.assets.get(name);
    if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('no such console asset\n');
    securityHeaders(reply)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('vary', 'accept-encoding')
      .type(asset.type);
    if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? ''))
      return reply.header('content-encoding', 'gzip').send(asset.gzipped);
    return reply.send(asset.body);
  });
}
