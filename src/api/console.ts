// Serves the built web console (dist/web, `npm run build:web`) at /console/: hashed assets with immutable
// caching, index.html for every other /console/* path (client-side routes), `/` -> /console/. Public: the
// page holds no data (its API calls are signed). Never reads outside dist/web; no new dependencies.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2', '.map': 'application/json; charset=utf-8', '.txt': 'text/plain; charset=utf-8',
};

/**
 * dist/web: from src/api/console.ts it is ../../dist/web, from the compiled dist/api/console.js ../web;
 * the first that exists (the first when neither does: the 503 page says how to build it).
 */
export function defaultConsoleDir(): string {
  const candidates = [path.join(import.meta.dirname, '..', '..', 'dist', 'web'), path.join(import.meta.dirname, '..', 'web')];
  return candidates.find((d) => existsSync(path.join(d, 'index.html'))) ?? candidates.find((d) => existsSync(d)) ?? candidates[0];
}

const MISSING = `<!doctype html><meta charset="utf-8"><title>batchflow console not built</title>
<h1>The console is not built</h1><p>Run <code>npm run build:web</code> and reload this page.</p>`;

export async function consolePlugin(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const root = path.resolve(opts.dir ?? defaultConsoleDir());
  const sendIndex = async (reply: FastifyReply) => {
    try {
      const html = await readFile(path.join(root, 'index.html'));
      return reply.code(200).header('content-type', TYPES['.html']).header('cache-control', 'no-cache').send(html);
    } catch {
      return reply.code(503).header('content-type', TYPES['.html']).header('cache-control', 'no-store').send(MISSING);
    }
  };
  app.get('/', async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console', async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console/*', async (req, reply) => {
    const rel = (req.params as { '*': string })['*'] ?? ''; // decoded by the router
    const file = path.resolve(root, rel);
    // A path outside the root (../, an absolute path) or a directory is a client-side route: the page.
    if (rel === '' || (file !== root && !file.startsWith(root + path.sep))) return sendIndex(reply);
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return sendIndex(reply);
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    const hashed = rel.startsWith('assets/');
    return reply
      .header('content-type', type)
      .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(await readFile(file));
  });
}
