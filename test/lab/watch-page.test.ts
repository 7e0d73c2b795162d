// The line watch's pictures as a visitor sees them: `vpsline serve --watch`
// runs in a lab host, two real routers from the visitor, with a watch
// database filled beforehand (eight days at 5 minutes written through the
// real detectors: evening loss in Beijing time, a line change half-way) and a
// live watch of the visitor's lab address on top. Debian's Chromium, in the
// visitor's namespace, opens /watch on a phone and a desktop, in English and
// Chinese. Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { buildRouterChain, type RouterChain } from '../../lab/routers.js';
import { hasCommand } from '../../lab/tools.js';
import { lineName } from '../../src/route/lines.js';
import { scratchDir } from '../support/scratch.js';
import { serverBase } from '../support/serve-process.js';
import { EVENING_BEIJING, type History, WATCH_TARGET, writeHistory } from '../support/watch-history.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = labSkipReason() ?? (hasCommand(CHROMIUM) ? undefined : 'needs Debian chromium (apt-get install chromium)');
const ARTIFACTS = join(projectRoot, 'test-artifacts');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const DAY = 86_400_000;
const LIVE = 'lab-visitor';

describe('line watch pictures in a browser', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  let browser: Browser;
  let base: string;
  let server: ChildProcess;
  let h: History;

  before(async () => {
    chain = buildRouterChain(lab, 2);
    const dir = scratchDir('vpsline-watch-page-');
    chmodSync(dir, 0o755);
    const watchDb = join(dir, 'watch.db');
    h = writeHistory(watchDb, { days: 8, intervalS: 300 });
    h.store.close();
    // The live watch: the visitor's lab address, every 2 s (a lab address only).
    const targets = join(dir, 'watch-targets.json');
    writeFileSync(targets, JSON.stringify([{ name: LIVE, address: '198.18.1.1' }]));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ watch: { intervalSeconds: 2, rounds: 2 } }));
    server = lab.spawn(
      chain.server,
      process.execPath,
      [
        join(projectRoot, 'bin', 'vpsline.js'),
        'serve',
        '--listen',
        `${chain.server4}:8080`,
        '--db',
        join(dir, 'lg.db'),
        '--config',
        config,
        '--watch',
        targets,
        '--watch-db',
        watchDb,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    base = await serverBase(server);
    const wrapper = join(dir, 'chromium-in-client.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${chain.client.name} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launch({ executablePath: wrapper, args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await lab.close();
  });

  const iso = (t: number): string => new Date(t).toISOString();
  async function open(path: string, viewport: { width: number; height: number }): Promise<Page> {
    const phone = viewport.width < 500;
    const page = await browser.newPage({ viewport, hasTouch: phone, isMobile: phone });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}${path}`);
    await page.waitForSelector('body[data-ready="1"]');
    assert.deepEqual(errors, [], 'no script errors');
    return page;
  }
  const json = <T>(page: Page, url: string): Promise<T> =>
    page.evaluate(async (u) => (await fetch(u)).json(), url) as Promise<T>;

  /** The smoke graph's pixels by what they show: the two bands (by their alpha) and the loss colours. */
  const pixels = (page: Page) =>
    page.$eval('#w-smoke canvas', (c) => {
      const canvas = c as HTMLCanvasElement;
      const d = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
      const n = { outer: 0, inner: 0, green: 0, red: 0, drawn: 0 };
      for (let i = 0; i < d.data.length; i += 4) {
        const [r, g, b, a] = [d.data[i] ?? 0, d.data[i + 1] ?? 0, d.data[i + 2] ?? 0, d.data[i + 3] ?? 0];
        if (a > 0) n.drawn++;
        const blue = Math.abs(r - 45) < 10 && Math.abs(g - 91) < 10 && Math.abs(b - 215) < 10;
        if (blue && a >= 25 && a <= 60) n.outer++;
        if (blue && a >= 95 && a <= 130) n.inner++;
        if (a > 200 && Math.abs(r - 47) < 8 && Math.abs(g - 158) < 8 && Math.abs(b - 68) < 8) n.green++;
        if (a > 200 && Math.abs(r - 217) < 8 && Math.abs(g - 48) < 8 && Math.abs(b - 44) < 8) n.red++;
      }
      return n;
    });

  for (const viewport of [
    { width: 390, height: 844 },
    { width: 1366, height: 800 },
  ])
    for (const lang of ['en', 'zh'] as const)
      test(`${viewport.width}x${viewport.height} ${lang}: graph, markers, heatmap, line, hops, link`, async () => {
        const from = h.end - 7 * DAY;
        const to = h.end;
        const path = `/watch?target=${WATCH_TARGET.name}&from=${iso(from)}&to=${iso(to)}&lang=${lang}`;
        const page = await open(path, viewport);

        // Nothing wider than the screen.
        const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        assert.ok((widths[0] as number) <= (widths[1] as number), `no horizontal scroll: ${widths}`);

        // (a) The smoke graph: drawn, both bands, the median green by day and red in the lossy evenings.
        assert.equal(await page.$$eval('#w-smoke canvas', (c) => c.length), 1);
        const px = await pixels(page);
        assert.ok(px.drawn > 5000, `drawn pixels: ${JSON.stringify(px)}`);
        assert.ok(px.outer > 600, `the 10th-90th band: ${JSON.stringify(px)}`);
        assert.ok(px.inner > 200, `the 25th-75th band: ${JSON.stringify(px)}`);
        assert.ok(px.green > 200 && px.red > 20, `median coloured by loss: ${JSON.stringify(px)}`);
        const legend = (await page.textContent('#w-legend')) ?? '';
        assert.match(legend, lang === 'zh' ? /丢包 20 % 及以上/ : /Loss 20 % or more/);

        // Event markers: one per event the API has in the range, each at its start on the time axis.
        const events = await json<{ events: { start: number; type: string }[] }>(
          page,
          `/api/v1/watch/events?target=${WATCH_TARGET.name}&from=${from}&to=${to}`,
        );
        const markers = await page.$$eval('#w-smoke .w-marker', (m) =>
          m.map((x) => ({
            start: Number((x as HTMLElement).dataset.start),
            left: parseFloat((x as HTMLElement).style.left),
          })),
        );
        assert.ok(events.events.length >= 10, `${events.events.length} events`);
        assert.equal(markers.length, events.events.length);
        const overWidth = await page.$eval('#w-smoke .u-over', (o) => o.getBoundingClientRect().width);
        for (const [i, e] of events.events.entries()) {
          const expected = ((Math.max(e.start, from) - from) / (to - from)) * overWidth;
          assert.equal(markers[i]?.start, e.start);
          assert.ok(
            Math.abs((markers[i]?.left ?? -99) - expected) <= 2,
            `marker ${i} at ${markers[i]?.left}, ${expected}`,
          );
        }

        // (b) The heatmap: 24 hours in Beijing time, the planted evening lossier than the morning.
        const cells = await page.$$eval('#w-heat .w-cell', (c) =>
          c.map((x) => ({
            hour: Number((x as HTMLElement).dataset.hour),
            level: Number((x as HTMLElement).dataset.level),
          })),
        );
        assert.equal(cells.length, 24);
        const level = (hr: number): number => cells.find((c) => c.hour === hr)?.level ?? -2;
        for (const evening of EVENING_BEIJING)
          for (const morning of [8, 9, 10])
            assert.ok(level(evening) > level(morning), `hour ${evening} (${level(evening)}) vs ${morning}`);
        await page.click('#w-heat .w-cell[data-hour="21"]');
        assert.match((await page.textContent('#w-cell')) ?? '', /^21:00/);

        // (c) The line over time, by name in the page's language.
        const names = await page.$$eval('#w-lines .w-line-name', (l) => l.map((x) => x.textContent));
        assert.deepEqual(names, [lineName('chinanet-163', lang), lineName('cn2-gia', lang)]);
        assert.ok((await page.$$eval('#w-timeline .w-seg', (s) => s.length)) >= 2);

        // (d) A tap on the chart: the nearest sample's hops.
        await page.$eval('#w-smoke', (e) => e.scrollIntoView({ block: 'center' }));
        const box = await page.$eval('#w-smoke .u-over', (o) => {
          const r = o.getBoundingClientRect();
          return { x: r.left, y: r.top, w: r.width, h: r.height };
        });
        const at = { x: box.x + box.w * 0.3, y: box.y + box.h / 2 };
        if (viewport.width < 500) await page.touchscreen.tap(at.x, at.y);
        else await page.mouse.click(at.x, at.y);
        await page.waitForSelector('#w-drill:not([hidden]) #w-hops tbody tr');
        const t = Number(await page.getAttribute('#w-drill', 'data-t'));
        const expectedT = from + 0.3 * (to - from);
        assert.ok(
          Math.abs(t - expectedT) <= ((to - from) / box.w) * 2 + 300_000,
          `tapped ${iso(t)}, ${iso(expectedT)}`,
        );
        const sample = await json<{ hops: { ttl: number; address: string }[] }>(
          page,
          `/api/v1/watch/sample?target=${WATCH_TARGET.name}&t=${t}`,
        );
        const rows = await page.$$eval('#w-hops tbody tr', (r) =>
          r.map((x) => [x.querySelector('td.ttl')?.textContent, x.querySelector('td.host .name')?.textContent]),
        );
        assert.deepEqual(
          rows,
          sample.hops.map((x) => [String(x.ttl), x.address]),
        );
        assert.equal(rows.length, 3);
        await page.screenshot({ path: join(ARTIFACTS, `watch-${viewport.width}-${lang}.png`), fullPage: true });

        // The permanent link reopens the same range: the same points, markers and words.
        const link = (await page.getAttribute('#w-permalink', 'href')) ?? '';
        assert.match(link, /^\/watch\?target=lab-ct&from=.+&to=/);
        const again = await open(link, viewport);
        for (const [sel, attr] of [['#w-smoke .u-over', 'data-points']] as const)
          assert.equal(await again.getAttribute(sel, attr), await page.getAttribute(sel, attr));
        assert.equal(await again.textContent('#w-status'), await page.textContent('#w-status'));
        assert.equal(await again.$$eval('#w-smoke .w-marker', (m) => m.length), markers.length);
        await again.close();

        // The 24 h button: a day ending now, in the link too.
        await page.click('.ranges button[data-days="1"]');
        await page.waitForSelector('body[data-ready="1"]');
        const day = new URL(page.url());
        const span = Date.parse(day.searchParams.get('to') ?? '') - Date.parse(day.searchParams.get('from') ?? '');
        assert.equal(span, DAY);
        await page.close();
      });

  test('the live watch in the same process samples the visitor through the lab routers', async () => {
    const page = await open(`/watch?target=${LIVE}`, { width: 1366, height: 800 });
    let last: number | null = null;
    for (let i = 0; i < 60 && last === null; i++) {
      const list = await json<{ running: boolean; targets: { name: string; lastSample: number | null }[] }>(
        page,
        '/api/v1/watch/targets',
      );
      assert.equal(list.running, true);
      assert.deepEqual(list.targets.map((x) => x.name).sort(), [WATCH_TARGET.name, LIVE].sort());
      last = list.targets.find((x) => x.name === LIVE)?.lastSample ?? null;
      if (last === null) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(last !== null, 'a live sample within 30 s');
    const s = await json<{ hops: { ttl: number; address: string }[]; destinationTtl: number }>(
      page,
      `/api/v1/watch/sample?target=${LIVE}&t=${last}`,
    );
    // The server's two routers, then the visitor.
    assert.equal(s.destinationTtl, 3);
    assert.deepEqual(
      s.hops.map((x) => x.address),
      ['198.18.3.1', '198.18.2.1', '198.18.1.1'],
    );
    await page.close();
  });
});
