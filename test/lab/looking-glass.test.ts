// The looking glass as a visitor sees it: Debian's Chromium, driven by
// playwright-core, runs inside a lab host; `vpsline serve` runs in another,
// two real routers apart. The visitor clicks the button and watches the hops
// arrive; uploads a real mtr report and sees both directions side by side;
// a hop whose name is markup stays text. Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serverBase } from '../support/serve-process.js';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { buildRouterChain, type RouterChain } from '../../lab/routers.js';
import { hasCommand } from '../../lab/tools.js';
import { scratchDir } from '../support/scratch.js';

const CHROMIUM = '/usr/bin/chromium';
const skip =
  labSkipReason() ??
  (hasCommand(CHROMIUM)
    ? hasCommand('mtr')
      ? undefined
      : 'needs mtr (Debian package mtr-tiny)'
    : 'needs Debian chromium (apt-get install chromium)');
const ARTIFACTS = join(projectRoot, 'test-artifacts');
const XSS_NAME = '<img/src=x/onerror=window.__xss=1>';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

describe('looking glass in a browser', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  let browser: Browser;
  /** A second visitor: Chromium in the server's namespace, so it comes from 198.18.3.2. */
  let otherBrowser: Browser;
  let base: string;
  let server: ChildProcess;

  before(async () => {
    chain = buildRouterChain(lab, 2);
    // r2 answers every other probe that expires there (a router limiting its ICMP): loss at that hop
    // only, which the page must not draw as loss on the path.
    chain.routers[1]!.exec('iptables', [
      '-A',
      'OUTPUT',
      '-p',
      'icmp',
      '--icmp-type',
      'time-exceeded',
      '-m',
      'statistic',
      '--mode',
      'nth',
      '--every',
      '2',
      '--packet',
      '0',
      '-j',
      'DROP',
    ]);
    // Names for the server's reverse DNS: one of them is markup. Only loopback as a
    // nameserver: no query leaves the lab.
    chain.server.useNameserver('127.0.0.1');
    chain.server.useHosts([`198.18.2.1 ${XSS_NAME}`, '198.18.3.1 r2.lab.example']);
    const dir = scratchDir('vpsline-lg-lab-');
    chmodSync(dir, 0o755);
    const config = join(dir, 'config.json');
    // The three-network table's targets: a lab address only (the built-in list is real carriers').
    const targets = join(dir, 'targets.json');
    writeFileSync(
      targets,
      JSON.stringify([{ address: '198.18.1.1', name: 'Lab Telecom', carrier: 'ct', city: 'Lab' }]),
    );
    writeFileSync(
      config,
      JSON.stringify({
        allow: ['198.18.0.0/15', '2001:2::/48'],
        limits: { defaultCount: 4, interval: 0.5 },
        site: { name: 'lab-lg', location: 'Lab rack 1', hosts: { v6: 'lg6.lab.example' } },
        returnRoutes: { enabled: true, periodMinutes: 10, targets },
      }),
    );
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
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    base = await serverBase(server);
    // Chromium in a lab namespace: a wrapper that playwright starts as "the browser".
    const launch = (ns: string): Promise<Browser> => {
      const wrapper = join(dir, `chromium-in-${ns}.sh`);
      writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
      chmodSync(wrapper, 0o755);
      return chromium.launch({ executablePath: wrapper, args: CHROMIUM_ARGS });
    };
    browser = await launch(chain.client.name);
    otherBrowser = await launch(chain.server.name);
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await otherBrowser?.close();
    await lab.close();
  });

  async function open(path = '/', viewport = { width: 1366, height: 800 }, from = browser): Promise<Page> {
    const page = await from.newPage({ viewport });
    page.on('dialog', (d) => void d.dismiss());
    await page.goto(`${base}${path}`);
    await page.waitForSelector('body[data-ready="1"]');
    return page;
  }
  const done = (page: Page): Promise<unknown> =>
    page.waitForFunction(
      () => /^(Done|完成)/.test(document.getElementById('reverse-status')?.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
  /** The forward direction, as the visitor's own mtr (Debian's) saw it. */
  const visitorMtr = (): string =>
    execFileSync('ip', ['netns', 'exec', chain.client.name, 'mtr', '-rwn', '-c', '4', '-i', '0.2', chain.server4], {
      encoding: 'utf8',
    });
  /** A table's rows as the page shows them: TTL, first host line, loss, average. */
  const rows = (page: Page, table: string): Promise<string[][]> =>
    page.$$eval(`#${table} tbody tr`, (trs) =>
      trs.map((tr) =>
        ['td.ttl', 'td.host .name', 'td.loss', 'td.avg'].map((c) => tr.querySelector(c)?.textContent ?? ''),
      ),
    );
  interface StoredHop {
    ttl: number;
    address: string | null;
    name: string | null;
    lossPercent: number;
    avg: number;
    received: number;
  }
  const expectedRows = (hops: StoredHop[]): string[][] =>
    hops.map((h) => [
      String(h.ttl),
      h.name ?? h.address ?? '???',
      h.lossPercent.toFixed(1),
      h.received ? h.avg.toFixed(1) : '',
    ]);

  for (const viewport of [
    { width: 390, height: 844 },
    { width: 1366, height: 800 },
  ])
    for (const lang of ['en', 'zh'] as const)
      test(`${viewport.width}x${viewport.height} ${lang}: live equals stored; both directions fit`, async () => {
        const page = await open(`/?lang=${lang}`, viewport);
        assert.match((await page.textContent('#visitor')) ?? '', /198\.18\.1\.1/);
        // Every table the page shows while the trace runs, by the rows' TTLs.
        await page.evaluate(() => {
          const w = window as unknown as { __seen: string[] };
          w.__seen = [];
          const body = document.querySelector('#reverse-hops tbody') as Element;
          new MutationObserver(() =>
            w.__seen.push(
              Array.from(body.querySelectorAll('tr'))
                .map((r) => r.dataset.ttl)
                .join(','),
            ),
          ).observe(body, { childList: true });
        });
        await page.click('#trace');
        await page.waitForFunction(() => document.getElementById('reverse-progress')?.hidden === false);
        await done(page);
        const id = new URL(page.url()).searchParams.get('trace');
        assert.match(id ?? '', /^[A-Za-z0-9_-]{22}$/, page.url());
        const stored = (await page.evaluate(async (t) => (await fetch(`/api/v1/traces/${t}`)).json(), id)) as {
          hops: StoredHop[];
          status: string;
        };
        assert.equal(stored.status, 'done');
        // What the live view ended with is the stored result, row for row and figure for figure.
        assert.deepEqual(await rows(page, 'reverse-hops'), expectedRows(stored.hops));
        const seen = (await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen)) as string[];
        const storedTtls = new Set(stored.hops.map((h) => String(h.ttl)));
        assert.ok(seen.length >= 2, `the table was drawn live: ${seen.join(' | ')}`);
        for (const table of seen)
          for (const ttl of table.split(',').filter(Boolean))
            assert.ok(storedTtls.has(ttl), `a live row (TTL ${ttl}) the stored result lacks: ${seen.join(' | ')}`);
        // The other direction, pasted from the visitor's own mtr.
        await page.fill('#forward-text', visitorMtr());
        await page.click('#send');
        await page.waitForFunction(() => document.querySelectorAll('#forward-hops tbody tr').length === 3);
        const forward = await rows(page, 'forward-hops');
        assert.deepEqual(
          forward.map((r) => r[1]),
          ['198.18.1.2', '198.18.2.2', '198.18.3.2'],
        );
        // mtr's own figures are kept: every row has its loss and average.
        assert.ok(
          forward.every((r) => r[2] !== '' && r[3] !== ''),
          JSON.stringify(forward),
        );
        // Lined up with the return path: each router answers from the same /24 both ways, in reverse order.
        const pairs = await page.$$eval('#forward-hops td.host .pair', (p) => p.map((x) => x.textContent));
        assert.deepEqual(
          pairs,
          lang === 'zh'
            ? ['↔ 回程第 3 跳', '↔ 回程第 2 跳', '↔ 回程第 1 跳']
            : [3, 2, 1].map((n) => `↔ return hop ${n}`),
        );
        // The headline names both directions; both tables are on the page; nothing is wider than the screen.
        const headline = (await page.textContent('#headline')) ?? '';
        assert.match(headline, lang === 'zh' ? /^去程 .+ \/ 回程 / : /^To the server: .+ · Back to you: /);
        for (const selector of ['#headline', '#reverse-hops', '#forward-hops', '#provenance'])
          assert.ok(await page.isVisible(selector), `${selector} is shown`);
        // Words, not the API's ids: no verdict, carrier or format id anywhere on the page.
        const shown = (await page.textContent('body')) ?? '';
        assert.doesNotMatch(shown, /\b(?:cn2-gia|cn2-gt|chinanet-163|cu-\d+|mtr-report|mtr-json|hop-list|icmp|auto)\b/);
        if (lang === 'zh') assert.doesNotMatch(shown, /\b(?:other|inconclusive|Done|Round|Measured|Uploaded)\b/);
        const widths = await page.evaluate(() => ({
          page: document.documentElement.scrollWidth,
          screen: window.innerWidth,
          // No host name broken one character per line: the host column is wider than a few letters.
          host: Math.min(...Array.from(document.querySelectorAll('td.host'), (c) => c.getBoundingClientRect().width)),
        }));
        assert.ok(widths.page <= widths.screen, `no horizontal scroll: ${widths.page} > ${widths.screen}`);
        assert.ok(widths.host >= 100, `host column ${widths.host} px`);
        // A router that limits its ICMP answers (r2 drops every other time-exceeded) shows its loss as such.
        const limited = await page.$$eval('#reverse-hops td.loss.limited', (c) => c.length);
        assert.ok(limited >= 1, 'a loss that does not carry on is marked as ICMP limiting');
        assert.equal(await page.$$eval('#reverse-hops td.loss.lossy', (c) => c.length), 0, 'no path loss drawn');
        await page.screenshot({
          path: join(ARTIFACTS, `looking-glass-${viewport.width}-${lang}.png`),
          fullPage: true,
        });
        await page.close();
      });

  test('hop names are text: markup in a reverse-DNS name never becomes an element', async () => {
    const page = await open();
    await page.click('#trace');
    await done(page);
    const names = await page.$$eval('#reverse-hops td.host .name', (cells) => cells.map((c) => c.textContent));
    assert.deepEqual(names, ['r2.lab.example', XSS_NAME, '198.18.1.1']);
    assert.equal(await page.$$eval('#reverse-hops img', (imgs) => imgs.length), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.$$eval('#chart canvas', (c) => c.length), 1, 'the latency chart');
    await page.close();
  });

  test('a permanent link opened by another visitor says who measured what and when; pairing and masking', async () => {
    const page = await open();
    await page.click('#trace');
    await done(page);
    await page.fill('#forward-text', visitorMtr());
    await page.click('#send');
    await page.waitForFunction(() => document.querySelectorAll('#forward-hops tbody tr').length === 3);
    const link = (await page.getAttribute('#permalink', 'href')) ?? '';
    const reportId = /^\/\?report=([A-Za-z0-9_-]{22})/.exec(link)?.[1];
    assert.ok(reportId, `the link names the upload: ${link}`);
    assert.equal(await page.isVisible('#mask'), true, 'the visitor is offered to hide their address');
    assert.match((await page.textContent('#mask-warning')) ?? '', /198\.18\.1\.1/);

    // Another browser, from another address (the server's own namespace: 198.18.3.2).
    const other = await open(link, { width: 390, height: 844 }, otherBrowser);
    await other.waitForFunction(() => document.querySelectorAll('#forward-hops tbody tr').length === 3);
    const said = await other.$$eval('#provenance li', (li) => li.map((x) => x.textContent ?? ''));
    assert.ok(
      said.some((s) => /^Measured by this server: .+ to 198\.18\.1\.1, 4 rounds, started /.test(s)),
      said.join('\n'),
    );
    assert.ok(
      said.some((s) => /^Uploaded by the visitor, not measured by this server: an mtr report, uploaded /.test(s)),
    );
    assert.ok(said.some((s) => /^This trace went to 198\.18\.1\.1\. You are 198\.18\.3\.2/.test(s)));
    assert.equal(await other.isVisible('#mask'), false, 'only the visitor may hide it');
    await other.screenshot({ path: join(ARTIFACTS, 'looking-glass-permalink-other.png'), fullPage: true });

    // A link pairing this upload with another trace is refused.
    await page.click('#trace');
    await done(page);
    const second = new URL(page.url()).searchParams.get('trace');
    const paired = await open(`/?trace=${second}&report=${reportId}`, undefined, otherBrowser);
    await paired.waitForFunction(() => document.getElementById('forward-status')?.classList.contains('error'));
    assert.match((await paired.textContent('#forward-status')) ?? '', /belongs to another trace/);
    assert.equal(await paired.$$eval('#forward-hops tbody tr', (r) => r.length), 0);
    await paired.close();

    // The visitor hides their address: the other browser no longer sees it anywhere.
    const mine = await open(link);
    await mine.click('#mask');
    await mine.waitForFunction(() =>
      /hidden for everyone/.test(document.getElementById('share-status')?.textContent ?? ''),
    );
    await other.reload();
    await other.waitForSelector('body[data-ready="1"]');
    await other.waitForFunction(() => document.querySelectorAll('#forward-hops tbody tr').length === 3);
    const text = (await other.textContent('main')) ?? '';
    assert.ok(!text.includes('198.18.1.1'), 'the visitor address is nowhere on the masked page');
    assert.match(text, /The visitor hid their address/);
    await other.screenshot({ path: join(ARTIFACTS, 'looking-glass-masked.png'), fullPage: true });
    await other.close();
    await mine.close();
    await page.close();
  });

  test('copy link, the summary as a PNG, and a chart that follows the window', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.click('#trace');
    await done(page);
    // Plain http on an address is no secure context: no clipboard API, as in many chat apps' browsers.
    // The page falls back to a selected field and the copy command; what it copied is read back from it.
    await page.evaluate(() => {
      const w = window as unknown as { __copied?: string | undefined };
      document.addEventListener('copy', () => {
        w.__copied = (document.activeElement as HTMLTextAreaElement | null)?.value;
      });
    });
    await page.click('#copy-link');
    await page.waitForFunction(() => /Link copied/.test(document.getElementById('share-status')?.textContent ?? ''));
    assert.equal(
      await page.evaluate(() => (window as unknown as { __copied?: string | undefined }).__copied),
      page.url(),
    );
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-image')]);
    const png = readFileSync((await download.path()) ?? '');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    assert.ok(png.length > 5000, `${png.length} bytes`);
    writeFileSync(join(ARTIFACTS, 'looking-glass-summary.png'), png);
    const wide = await page.$eval('#chart canvas', (c) => c.getBoundingClientRect().width);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(
      (w) => (document.querySelector('#chart canvas')?.getBoundingClientRect().width ?? w) < w * 0.7,
      wide,
    );
    const narrow = await page.$eval('#chart canvas', (c) => c.getBoundingClientRect().width);
    assert.ok(narrow <= 390, `the chart is ${narrow} px wide on a 390 px screen (was ${wide})`);
    await context.close();
  });

  test('the three-network table: measured once on request, shown with its verdict', async () => {
    const page = await open();
    assert.equal(await page.isVisible('#routes'), true);
    assert.match((await page.textContent('#server-about')) ?? '', /lab-lg · Location: Lab rack 1/);
    // A visitor on IPv4 is offered the operator's IPv6-only name (only the link; nothing is opened).
    assert.equal(await page.getAttribute('#other-family a', 'href'), 'http://lg6.lab.example:8080/');
    await page.click('#routes-show');
    await page.waitForFunction(
      () => /^Measured /.test(document.getElementById('routes-status')?.textContent ?? ''),
      undefined,
      {
        timeout: 30_000,
      },
    );
    const row = await page.$$eval('#routes-table tbody tr td', (c) => c.map((x) => x.textContent));
    assert.equal(row[0], 'China Telecom');
    assert.equal(row[1], 'Lab');
    assert.ok(row[2], 'a line name');
    await page.close();
  });

  test('a refusal is shown in the page language, from its stable code', async () => {
    for (const [lang, words] of [
      ['zh', /^无法读取这份报告：/],
      ['en', /^(?!无法)\S/],
    ] as const) {
      const page = await open(`/?lang=${lang}`);
      await page.fill('#forward-text', 'these words are no trace at all');
      await page.click('#send');
      await page.waitForFunction(() => document.getElementById('forward-status')?.classList.contains('error'));
      assert.match((await page.textContent('#forward-status')) ?? '', words);
      // What the page was answered: the code scripts switch on, and both languages.
      const body = await page.evaluate(async () => {
        const r = await fetch('/api/v1/reports', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'these words are no trace at all' }),
        });
        return { status: r.status, json: await r.json() };
      });
      assert.equal(body.status, 400);
      assert.equal(body.json.code, 'report-unreadable');
      assert.equal(body.json.message.en, body.json.error);
      if (lang === 'en') assert.equal(await page.textContent('#forward-status'), body.json.error);
      await page.close();
    }
  });

  test('a file over the upload limit is refused whole, in the page language, never cut to fit', async () => {
    for (const [lang, words] of [
      ['en', /^This file is 300 KB; uploads are at most 256 KB\./],
      ['zh', /^该文件大小为 300 KB；上传最多 256 KB。/],
    ] as const) {
      const page = await open(`/?lang=${lang}`);
      await page.setInputFiles('#forward-file', {
        name: 'big.txt',
        mimeType: 'text/plain',
        buffer: Buffer.alloc(300 * 1024, 'x'),
      });
      await page.waitForFunction(() => document.getElementById('forward-status')?.classList.contains('error'));
      assert.match((await page.textContent('#forward-status')) ?? '', words);
      assert.equal(await page.inputValue('#forward-text'), '', 'nothing was put in the text box');
      await page.close();
    }
  });
});
