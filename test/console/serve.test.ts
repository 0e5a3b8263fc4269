// src/api/console.ts: the built files with their types and caching, the page for client-side routes,
// `/` and `/console` redirects, no reads outside the root, and a clear 503 page when nothing is built.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { consolePlugin } from '../../src/api/console.js';

async function appOn(dir: string) {
  const app = Fastify();
  await consolePlugin(app, { dir });
  return app;
}

it('serves index.html for routes, hashed assets as immutable, redirects / and /console, and never leaves its root', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bf-web-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><p>console</p>');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(path.dirname(dir), 'secret.txt'), 'nope');
  const app = await appOn(dir);
  for (const from of ['/', '/console']) {
    const r = await app.inject(from);
    expect(r.statusCode).toBe(302);
    expect(r.headers.location).toBe('/console/');
  }
  const page = await app.inject('/console/');
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  const js = await app.inject('/console/assets/index-abc123.js');
  expect(js.headers['content-type']).toMatch(/^text\/javascript/);
  expect(js.headers['cache-control']).toContain('immutable');
  const route = await app.inject('/console/runs/1-20260101000000');
  expect(route.statusCode).toBe(200);
  expect(route.body).toContain('console');
  for (const evil of ['/console/../secret.txt', '/console/%2e%2e/secret.txt', '/console/..%2fsecret.txt']) {
    expect((await app.inject(evil)).body).not.toContain('nope');
  }
  await app.close();
});

it('answers 503 with how to build when dist/web is missing', async () => {
  const app = await appOn(path.join(os.tmpdir(), 'bf-web-missing-xyz'));
  const r = await app.inject('/console/');
  expect(r.statusCode).toBe(503);
  expect(r.body).toContain('npm run build:web');
  await app.close();
});
