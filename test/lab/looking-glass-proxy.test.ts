// The looking glass behind a real nginx (Debian's nginx-light), configured with
// the README's own server block: vpsline listens on 127.0.0.1:8080 inside the
// server's namespace, nginx on the server's lab address, port 80, and Debian's
// Chromium in the visitor's namespace opens the page through nginx. The page's
// POSTs must pass the Origin check (the Host nginx sends is 127.0.0.1:8080), the
// live hops must stream, and whoami must name the public host and the visitor.
// Browser steps use only #trace, #reverse-status, #forward-text, #send,
// #forward-hops and #permalink; everything else is asked of the API from the page.
import assert from 'node:assert/strict';
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason, type Netns } from '../../lab/netns.js';
import { buildRouterChain, type RouterChain } from '../../lab/routers.js';
import { hasCommand } from '../../lab/tools.js';
import { serverBase } from '../support/serve-process.js';
import { scratchDir } from '../support/scratch.js';

const CHROMIUM = '/usr/bin/chromium';
const NGINX = '/usr/sbin/nginx';
const skip =
  labSkipReason() ??
  (!hasCommand(NGINX)
    ? 'needs nginx (apt-get install nginx-light)'
    : !hasCommand(CHROMIUM)
      ? 'needs Debian chromium (apt-get install chromium)'
      : !hasCommand('mtr')
        ? 'needs mtr (Debian package mtr-tiny)'
        : undefined);
const VISITOR = '198.18.1.1';
// A short mtr report, for a POST that only has to pass the Origin check.
const REPORT = [
  'HOST: visitor                   Loss%   Snt   Last   Avg  Best  Wrst StDev',
  '  1.|-- 198.18.1.2                0.0%     2    0.1   0.1   0.1   0.1   0.0',
].join('\n');

/** The fenced block after `<!-- marker -->` in README.md, verbatim. */
function readmeBlock(marker: string): string {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- ${marker} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(readme);
  assert.ok(m, `README.md has a fenced block after <!-- ${marker} -->`);
  return m[1]!;
}

/** `text` with `from` replaced, which must occur exactly once (a README change must not slip past). */
function replaceOnce(text: string, from: string, to: string): string {
  assert.equal(text.split(from).length, 2, `exactly one ${JSON.stringify(from)} in the README's block`);
  return text.replace(from, to);
}

/** Never resolves; rejects with the child's standard error if it exits. */
function exited(child: ChildProcess, what: string): Promise<never> {
  return new Promise((_resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${err}`)));
  });
}

/** Once something in `ns` accepts connections on host:port (tried from inside, every 50 ms, for 10 s). */
async function listening(ns: Netns, host: string, port: number): Promise<void> {
  const script = `
    const { connect } = require('node:net');
    const until = Date.now() + 10_000;
    const attempt = () => {
      const s = connect(${port}, '${host}', () => { s.destroy(); process.exit(0); });
      s.on('error', () => (Date.now() < until ? setTimeout(attempt, 50) : process.exit(1)));
    };
    attempt();`;
  await new Promise<void>((resolve, reject) =>
    execFile('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], (err) =>
      err ? reject(new Error(`nothing listens on ${host}:${port} in ${ns.name}`)) : resolve(),
    ),
  );
}

interface Whoami {
  address: string;
  server: string;
}

describe('looking glass behind nginx, configured as the README says', { skip }, () => {
  const lab = new Lab();
  let chain: RouterChain;
  let dir: string;
  let browser: Browser;
  let base: string;
  let serveArgs: string[];
  let vpsline: ChildProcess;

  /** `vpsline serve` in the server's namespace with the README's options (less `drop`) and the lab's. */
  async function startVpsline(db: string, drop: string[] = []): Promise<ChildProcess> {
    const args = serveArgs.filter((a, i) => !drop.includes(a) && !drop.includes(serveArgs[i - 1] ?? ''));
    const child = lab.spawn(
      chain.server,
      process.execPath,
      [join(projectRoot, 'bin', 'vpsline.js'), ...args, '--db', join(dir, db), '--config', join(dir, 'config.json')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    assert.equal(await serverBase(child), 'http://127.0.0.1:8080');
    return child;
  }

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  }

  before(async () => {
    chain = buildRouterChain(lab, 2);
    // No name is looked up outside the lab: only loopback as a nameserver, and vpsline without reverse DNS.
    chain.server.useNameserver('127.0.0.1');
    chain.client.useNameserver('127.0.0.1');
    dir = scratchDir('vpsline-lg-proxy-lab-');
    chmodSync(dir, 0o755);
    // The lab's addresses are benchmarking space, which the looking glass refuses unless allowed.
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        allow: ['198.18.0.0/15', '2001:2::/48'],
        dns: false,
        limits: { defaultCount: 4, interval: 0.5 },
      }),
    );
    // The README's command line, less the program's name.
    const line = readmeBlock('serve-behind-proxy').trim();
    assert.match(line, /^vpsline serve /);
    serveArgs = line.split(/\s+/).slice(1);
    vpsline = await startVpsline('lg.db');

    // nginx: the README's server block; only its listen line moves onto the server's lab address (the
    // block's `listen 80` would do too, but names no address). Its server_name stays: as the only server
    // it is the default one, and serves the lab address as well. The wrapper keeps nginx's files here.
    const site = replaceOnce(readmeBlock('nginx-block'), 'listen 80;', `listen ${chain.server4}:80;`);
    writeFileSync(join(dir, 'vpsline-site.conf'), site);
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      [
        'daemon off;',
        // One process, as root: a worker outlives a master killed with SIGKILL (the lab's cleanup, even
        // on ^C), and would hold the namespace and this test's stderr pipe open.
        'master_process off;',
        `pid ${dir}/nginx.pid;`,
        'error_log stderr notice;',
        'events { worker_connections 256; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t}-temp;`),
        `  include ${dir}/vpsline-site.conf;`,
        '}',
        '',
      ].join('\n'),
    );
    // A configuration nginx refuses fails here, with nginx's words.
    chain.server.exec(NGINX, ['-t', '-q', '-e', 'stderr', '-p', dir, '-c', conf]);
    const nginx = lab.spawn(chain.server, NGINX, ['-e', 'stderr', '-p', dir, '-c', conf], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await Promise.race([listening(chain.server, chain.server4, 80), exited(nginx, 'nginx')]);
    base = `http://${chain.server4}`;

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
  });
  after(async () => {
    await browser?.close();
    // Kills nginx and vpsline (every process it spawned), then removes the namespaces.
    await lab.close();
  });

  async function open(path = '/'): Promise<Page> {
    const page = await browser.newPage();
    page.on('dialog', (d) => void d.dismiss());
    await page.goto(`${base}${path}`);
    return page;
  }
  /** The forward direction, as the visitor's own mtr (Debian's) sees it. */
  const visitorMtr = (): string =>
    execFileSync('ip', ['netns', 'exec', chain.client.name, 'mtr', '-rwn', '-c', '2', '-i', '0.2', chain.server4], {
      encoding: 'utf8',
    });
  const whoami = (page: Page): Promise<Whoami> =>
    page.evaluate(async () => (await fetch('/api/v1/whoami')).json() as Promise<Whoami>);
  const traceDone = (page: Page): Promise<unknown> =>
    page.waitForFunction(() => /^Done/.test(document.getElementById('reverse-status')?.textContent ?? ''), undefined, {
      timeout: 30_000,
    });

  test('whoami through nginx: the --public-host name, and the visitor from X-Forwarded-For', async () => {
    const page = await open();
    const me = await whoami(page);
    assert.equal(me.server, 'lg.example.com');
    // Not 127.0.0.1, nginx's address as vpsline sees the connection.
    assert.equal(me.address, VISITOR);
    // The commands the visitor is asked to run name the public host.
    await page.waitForFunction(() => /lg\.example\.com/.test(document.getElementById('commands')?.textContent ?? ''));
    const commands = await page.$$eval('#commands code', (c) => c.map((x) => x.textContent ?? ''));
    assert.ok(commands.length === 3 && commands.every((c) => c.includes('lg.example.com')), commands.join('\n'));
    await page.close();
  });

  test('a trace started from the page passes the Origin check and runs to the end', async () => {
    const page = await open();
    await page.click('#trace');
    await traceDone(page);
    await page.close();
  });

  test('the live hops stream through nginx: the first arrives well before the end', async () => {
    const page = await open();
    const seen = await page.evaluate(async () => {
      const r = await fetch('/api/v1/traces', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const { id } = (await r.json()) as { id: string };
      return new Promise<{ status: number; firstHop: number; end: number }>((resolve) => {
        const source = new EventSource(`/api/v1/traces/${id}/events`);
        let firstHop = 0;
        source.addEventListener('progress', () => {
          firstHop ||= performance.now();
        });
        source.addEventListener('end', () => {
          source.close();
          resolve({ status: r.status, firstHop, end: performance.now() });
        });
      });
    });
    assert.equal(seen.status, 202);
    assert.ok(seen.firstHop > 0, 'progress events came through');
    // Four rounds 0.5 s apart: buffered, every event would arrive at the end at once.
    assert.ok(seen.end - seen.firstHop > 700, `first hop ${Math.round(seen.end - seen.firstHop)} ms before the end`);
    await page.close();
  });

  test('an uploaded mtr report fills the forward table; the permanent link shows both again', async () => {
    const page = await open();
    await page.click('#trace');
    await traceDone(page);
    await page.fill('#forward-text', visitorMtr());
    await page.click('#send');
    await page.waitForFunction(() => document.querySelectorAll('#forward-hops tbody tr').length > 0);
    // The link names the upload; the upload names the one trace it belongs to.
    const link = await page.getAttribute('#permalink', 'href');
    const report = /[?&]report=([A-Za-z0-9_-]{22})/.exec(link ?? '')?.[1];
    assert.ok(report, `a link to the upload: ${link}`);
    const trace = await page.evaluate(
      async (id) => ((await (await fetch(`/api/v1/reports/${id}`)).json()) as { traceId: string }).traceId,
      report,
    );
    assert.match(trace, /^[A-Za-z0-9_-]{22}$/);
    await page.close();

    const again = await open(link!);
    await traceDone(again);
    await again.waitForFunction(() => document.querySelectorAll('#forward-hops tbody tr').length > 0);
    // The stored trace, through nginx: done, from the server back to the visitor.
    const stored = await again.evaluate(
      async (id) => (await fetch(`/api/v1/traces/${id}`)).json() as Promise<{ status: string; target: string }>,
      trace,
    );
    assert.equal(stored.status, 'done');
    assert.equal(stored.target, VISITOR);
    await again.close();
  });

  test('without --public-host, whoami names the host the browser asked nginx for', async () => {
    await stop(vpsline);
    vpsline = await startVpsline('lg-unnamed.db', ['--public-host']);
    const page = await open();
    const me = await whoami(page);
    // The lab address in the page's URL (nginx's X-Forwarded-Host), not vpsline's 127.0.0.1.
    assert.equal(me.server, chain.server4);
    assert.equal(me.address, VISITOR);
    // And a POST from this page still passes the Origin check.
    const status = await page.evaluate(
      async (text) =>
        (
          await fetch('/api/v1/reports', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ text }),
          })
        ).status,
      REPORT,
    );
    assert.equal(status, 201);
    await page.close();
  });
});
