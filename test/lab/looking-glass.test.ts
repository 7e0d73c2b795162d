// The looking glass as a visitor sees it: Debian's Chromium, driven by
// playwright-core, runs inside a lab host; `vpsline serve` runs in another,
// two real routers apart. The visitor clicks the button and watches the hops
// arrive; uploads a real mtr report and sees both directions side by side;
// a hop whose name is markup stays text. Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
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

describe('looking glass in a browser', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  let browser: Browser;
  let base: string;
  let server: ChildProcess;

  before(async () => {
    chain = buildRouterChain(lab, 2);
    // Names for the server's reverse DNS: one of them is markup. Only loopback as a
    // nameserver: no query leaves the lab.
    chain.server.useNameserver('127.0.0.1');
    chain.server.useHosts([`198.18.2.1 ${XSS_NAME}`, '198.18.3.1 r2.lab.example']);
    const dir = scratchDir('vpsline-lg-lab-');
    chmodSync(dir, 0o755);
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({ allow: ['198.18.0.0/15', '2001:2::/48'], limits: { defaultCount: 4, interval: 0.5 } }),
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
    // Chromium in the visitor's namespace: a wrapper that playwright starts as "the browser".
    const wrapper = join(dir, 'chromium-in-lab.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${chain.client.name} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browser = await chromium.launch({
      executablePath: wrapper,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await lab.close();
  });

  async function open(path = '/'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (d) => void d.dismiss());
    await page.goto(`${base}${path}`);
    return page;
  }

  test('the visitor sees its own address, clicks, and the hops arrive live', async () => {
    const page = await open();
    await page.waitForFunction(() => document.getElementById('visitor')?.textContent !== '…');
    assert.equal(await page.textContent('#visitor'), '198.18.1.1');
    await page.click('#trace');
    // Live: rows are on the page while the trace is still running.
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#reverse-hops tbody tr').length >= 1 &&
        /Tracing/.test(document.getElementById('reverse-status')!.textContent ?? ''),
    );
    const partial = await page.$$eval('#reverse-hops tbody tr', (rows) => rows.length);
    assert.ok(partial >= 1);
    await page.waitForFunction(
      () => /^Done/.test(document.getElementById('reverse-status')!.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    const hosts = await page.$$eval('#reverse-hops tbody tr td:nth-child(2) .host', (cells) =>
      cells.map((c) => c.textContent),
    );
    assert.deepEqual(hosts, ['r2.lab.example (198.18.3.1)', `${XSS_NAME} (198.18.2.1)`, '198.18.1.1']);
    // The markup in a hop name is text: no element made from it, nothing ran.
    assert.equal(await page.$$eval('#reverse-hops img', (imgs) => imgs.length), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.$$eval('#chart canvas', (c) => c.length), 1, 'the latency chart');
    assert.match((await page.textContent('#reverse-verdict')) ?? '', /Line:/);
    await page.screenshot({ path: join(ARTIFACTS, 'looking-glass-reverse.png'), fullPage: true });
    await page.close();
  });

  test('uploading an mtr report shows both directions side by side, with a permanent link', async () => {
    const page = await open();
    await page.click('#trace');
    await page.waitForFunction(
      () => /^Done/.test(document.getElementById('reverse-status')!.textContent ?? ''),
      undefined,
      { timeout: 30_000 },
    );
    // The forward direction, as the visitor's own mtr (Debian's) saw it.
    const mtr = execFileSync(
      'ip',
      ['netns', 'exec', chain.client.name, 'mtr', '-rwn', '-c', '2', '-i', '0.2', chain.server4],
      { encoding: 'utf8' },
    );
    await page.fill('#forward-text', mtr);
    await page.click('#send');
    await page.waitForFunction(() => document.querySelectorAll('#forward-hops tbody tr').length > 0);
    const forward = await page.$$eval('#forward-hops tbody tr td:nth-child(2)', (cells) =>
      cells.map((c) => c.textContent),
    );
    assert.deepEqual(forward, ['198.18.1.2', '198.18.2.2', '198.18.3.2']);
    assert.match((await page.textContent('#forward-status')) ?? '', /mtr-report/);
    const link = await page.getAttribute('#permalink', 'href');
    assert.match(link ?? '', /^\/\?trace=[A-Za-z0-9_-]{22}&report=[A-Za-z0-9_-]{22}$/);
    // Side by side: the two sections share a row.
    const [reverseBox, forwardBox] = await Promise.all([
      page.locator('#reverse').boundingBox(),
      page.locator('#forward').boundingBox(),
    ]);
    assert.ok(reverseBox && forwardBox && Math.abs(reverseBox.y - forwardBox.y) < 2 && forwardBox.x > reverseBox.x);
    await page.screenshot({ path: join(ARTIFACTS, 'looking-glass-both-directions.png'), fullPage: true });
    await page.close();
    // The permanent link, opened fresh, shows both again (and in Chinese on request).
    const again = await open(`${link}&lang=zh`);
    await again.waitForFunction(
      () =>
        document.querySelectorAll('#forward-hops tbody tr').length === 3 &&
        document.querySelectorAll('#reverse-hops tbody tr').length === 3,
    );
    assert.match((await again.textContent('h1')) ?? '', /观察镜/);
    await again.screenshot({ path: join(ARTIFACTS, 'looking-glass-permalink-zh.png'), fullPage: true });
    await again.close();
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
      await page.waitForFunction(() => document.getElementById('visitor')?.textContent !== '…');
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
