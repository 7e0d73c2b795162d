// The page's files, read once at start: index.html, the script, the styles,
// uPlot, and the page's texts (page-texts.ts, the same module the server
// speaks from) as /i18n.js. ETags let a returning visitor get a 304 instead of
// 70 KB again; @fastify/compress (registered at the root) compresses them.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyEtag from '@fastify/etag';
import type { FastifyInstance } from 'fastify';
import { PAGE_TEXT } from '../page-texts.js';

const WEB = new URL('../../../web/', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const UPLOT = dirname(require.resolve('uplot/package.json'));

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Files the page needs: path -> [content type, body]. */
function assets(): Map<string, [string, Buffer]> {
  const files: [string, string, string][] = [
    ['/', join(WEB, 'index.html'), 'text/html; charset=utf-8'],
    ['/app.js', join(WEB, 'app.js'), JS],
    ['/chart.js', join(WEB, 'chart.js'), JS],
    ['/share.js', join(WEB, 'share.js'), JS],
    ['/style.css', join(WEB, 'style.css'), CSS],
    // The line watch's view: its own page and script, so the main page does not carry them.
    ['/watch', join(WEB, 'watch.html'), 'text/html; charset=utf-8'],
    ['/watch.js', join(WEB, 'watch.js'), JS],
    ['/vendor/uPlot.iife.min.js', join(UPLOT, 'dist', 'uPlot.iife.min.js'), JS],
    ['/vendor/uPlot.min.css', join(UPLOT, 'dist', 'uPlot.min.css'), CSS],
  ];
  const map = new Map(
    files.map(([route, file, type]): [string, [string, Buffer]] => [route, [type, readFileSync(file)]]),
  );
  map.set('/i18n.js', [JS, Buffer.from(`export const TEXT = ${JSON.stringify(PAGE_TEXT)};\n`)]);
  return map;
}

export default async function staticFiles(app: FastifyInstance): Promise<void> {
  await app.register(fastifyEtag, { algorithm: 'sha1' });
  // no-cache: the browser asks each time, and the ETag makes the answer a 304 when nothing changed.
  const watchOn = app.lg.opts.watch !== undefined;
  for (const [route, [type, body]] of assets()) {
    if (!watchOn && (route === '/watch' || route === '/watch.js')) continue;
    app.get(route, (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
}
