// The looking glass's API, in process (Fastify's inject: no sockets for HTTP)
// with a real SQLite file and a real probe engine. Bad input of every kind
// gets a 4xx with a message, and no probe is sent: the engine's own counter
// of packets sent stays at zero. Accepted traces only ever go to loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProbeEngine } from '../../src/probe/engine.js';
import { createLookingGlass, type LookingGlass } from '../../src/server/app.js';
import { REFUSAL_CODES, type RefusalCode } from '../../src/server/refusals.js';
import { scratchDir } from '../support/scratch.js';

const MTR_REPORT = [
  'Start: 2026-11-28T04:38:04+0000',
  'HOST: home                      Loss%   Snt   Last   Avg  Best  Wrst StDev',
  '  1.|-- 192.168.1.1               0.0%    10    0.5   0.5   0.4   0.6   0.1',
  '  2.|-- 59.43.1.1                 0.0%    10   10.1  10.2  10.0  10.5   0.1',
  '  3.|-- 59.43.2.1                 0.0%    10   11.1  11.2  11.0  11.5   0.1',
  '  4.|-- 203.0.113.50              0.0%    10   12.1  12.2  12.0  12.5   0.1',
].join('\n');

const TOKEN = 'lab-token-0123456789abcdef';

/** The one error shape: English words, a known code, and the words in both languages. */
function assertRefusalShape(body: { error?: string; code?: string; message?: { en?: string; zh?: string } }): void {
  assert.ok(REFUSAL_CODES.includes(body.code as RefusalCode), `a known code: ${JSON.stringify(body)}`);
  assert.equal(body.message?.en, body.error);
  assert.match(body.message?.zh ?? '', /[\u4e00-\u9fff]/, `Chinese words: ${JSON.stringify(body)}`);
}

describe('looking glass API', () => {
  let dir: string;
  let lg: LookingGlass;
  let engine: ProbeEngine;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-api-'));
    engine = new ProbeEngine();
    lg = await createLookingGlass({
      db: join(dir, 'lg.db'),
      engine,
      dns: false,
      tokens: [TOKEN],
      trustProxy: ['127.0.0.2/32'],
      limits: {
        uploadsPerClientPerHour: 3,
        maxPerClient: 1,
        bodyLimit: 1024,
        uploadLimit: 4096,
        defaultCount: 2,
        interval: 0.05,
      },
    });
  });
  after(async () => {
    await lg.close();
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
    lg.app.inject({
      method: 'POST',
      url,
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      headers: { 'content-type': 'application/json', ...headers },
      remoteAddress,
    });

  test('bad input: 4xx with a message, never a 500, never a probe', async () => {
    const cases: [unknown, Record<string, string>, number][] = [
      [{ target: '8.8.8.8;id' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '$(reboot)' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '-w 60 8.8.8.8' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '<script>alert(1)</script>' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '127.1' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '2130706433' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '0x7f000001' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '0177.0.0.1' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: 'fe80::1%lo' }, { authorization: `Bearer ${TOKEN}` }, 400],
      [{ target: '10.0.0.1' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: '169.254.169.254' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: '::ffff:127.0.0.1' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: '::1' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: '2002:7f00:1::' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: '64:ff9b::7f00:1' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: 'fd00::1' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: '198.18.0.1' }, { authorization: `Bearer ${TOKEN}` }, 403],
      [{ target: '8.8.8.8' }, {}, 401],
      [{ target: '8.8.8.8' }, { authorization: 'Bearer wrong-token-0123456789' }, 401],
      [{ count: 0 }, {}, 400],
      [{ count: 101 }, {}, 400],
      [{ count: '5' }, {}, 400],
      [{ count: 2.5 }, {}, 400],
      [{ protocol: 'raw' }, {}, 400],
      [{ interval: 0.001 }, {}, 400],
      [{ target: 'x', extra: 1 }, {}, 400],
      [['8.8.8.8'], {}, 400],
      ['{"target": ', {}, 400],
      [{ target: 'a'.repeat(2000) }, {}, 413],
      [{}, { origin: 'https://evil.example' }, 403],
    ];
    for (const [payload, headers, status] of cases) {
      const r = await post('/api/v1/traces', payload, headers);
      assert.equal(
        r.statusCode,
        status,
        `${JSON.stringify(payload).slice(0, 60)} ${JSON.stringify(headers)}: ${r.body}`,
      );
      const body = r.json() as { error?: string };
      assert.ok(body.error && body.error.length < 300, `a short message: ${r.body}`);
      assert.doesNotMatch(r.body, /at .*\.ts:\d+/, 'no stack trace');
      assertRefusalShape(r.json());
    }
    // Stable codes, and reasons that say what the address is.
    const codeOf = async (payload: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
      ((await post('/api/v1/traces', payload, headers)).json() as { code: string }).code;
    assert.equal(await codeOf({ target: '::1' }), 'target-ipv6-loopback');
    assert.equal(await codeOf({ target: '::ffff:127.0.0.1' }), 'target-embedded-refused');
    assert.equal(await codeOf({ target: '10.0.0.1' }), 'target-special');
    assert.equal(await codeOf({ target: '0x7f000001' }), 'target-ipv4-form');
    assert.equal(await codeOf({ target: '8.8.8.8' }, {}), 'token-required');
    assert.equal(await codeOf({}, { origin: 'https://evil.example' }), 'cross-site');
    assert.equal(await codeOf({ target: 'x', extra: 1 }), 'unknown-field');
    assert.equal(await codeOf({ target: 'a'.repeat(2000) }), 'too-large');
    const loop = (await post('/api/v1/traces', { target: '::1' }, { authorization: `Bearer ${TOKEN}` })).json();
    assert.deepEqual(loop.message, {
      en: '::1 is the IPv6 loopback address.',
      zh: '::1 是 IPv6 环回地址。',
    });
    // The visitor itself is loopback here, which is refused unless the operator allows it.
    const self = await post('/api/v1/traces', {});
    assert.equal(self.statusCode, 403, self.body);
    assert.equal(engine.counters.sent, 0, 'no probe was sent');
    const wrongType = await lg.app.inject({
      method: 'POST',
      url: '/api/v1/traces',
      payload: 'target=8.8.8.8',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(wrongType.statusCode, 415);
    assertRefusalShape(wrongType.json());
    const badId = await lg.app.inject({ url: '/api/v1/traces/..%2f..%2fetc%2fpasswd' });
    assert.equal(badId.statusCode, 400);
    const unknown = await lg.app.inject({ url: '/api/v1/traces/AAAAAAAAAAAAAAAAAAAAAA' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'no-such-trace');
    // Every refusal is in the audit log, with who asked and why.
    const audit = lg.store.auditLog(100);
    assert.ok(audit.some((a) => a.target === '10.0.0.1' && /refused: .*private/.test(a.decision)));
    assert.ok(audit.some((a) => a.target === '8.8.8.8' && a.decision === 'refused: no token'));
    assert.equal(engine.counters.sent, 0, 'still no probe');
  });

  test('uploads: every format classify reads, stored and served; bad ones refused; /64 budgets', async () => {
    const up = await post('/api/v1/reports', { text: MTR_REPORT }, {}, '2001:db8:5:6::1');
    assert.equal(up.statusCode, 201, up.body);
    const stored = up.json() as { id: string; format: string; verdict: string; links: { page: string } };
    assert.equal(stored.format, 'mtr-report');
    assert.equal(stored.verdict, 'cn2-gia');
    const back = (await lg.app.inject({ url: `/api/v1/reports/${stored.id}` })).json() as {
      body: string;
      verdict: string;
      hops: { address: string | null }[];
    };
    assert.equal(back.body, MTR_REPORT);
    assert.deepEqual(
      back.hops.map((h) => h.address),
      ['192.168.1.1', '59.43.1.1', '59.43.2.1', '203.0.113.50'],
    );
    for (const [payload, status] of [
      [{ text: 'hello there' }, 400],
      [{ text: '' }, 400],
      [{ text: MTR_REPORT, traceId: 'AAAAAAAAAAAAAAAAAAAAAA' }, 404],
      [{ text: MTR_REPORT, traceId: '../../x' }, 400],
      [{ text: 'x'.repeat(5000) }, 400],
      [{ body: MTR_REPORT }, 400],
    ] as [unknown, number][]) {
      const r = await post('/api/v1/reports', payload, {}, '2001:db8:9::1');
      assert.equal(r.statusCode, status, `${JSON.stringify(payload).slice(0, 50)}: ${r.body}`);
    }
    // Budget of 3 per hour per /64: two more from the same /64 (another address) pass,
    // the next is refused with Retry-After.
    assert.equal((await post('/api/v1/reports', { text: MTR_REPORT }, {}, '2001:db8:5:6::2')).statusCode, 201);
    assert.equal((await post('/api/v1/reports', { text: MTR_REPORT }, {}, '2001:db8:5:6:ffff::9')).statusCode, 201);
    const limited = await post('/api/v1/reports', { text: MTR_REPORT }, {}, '2001:db8:5:6::3');
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(
      (await post('/api/v1/reports', { text: MTR_REPORT }, {}, '2001:db8:5:7::1')).statusCode,
      201,
      'another /64 has its own budget',
    );
  });

  test('X-Forwarded-For counts only from a configured proxy', async () => {
    const direct = await lg.app.inject({
      url: '/api/v1/whoami',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '8.8.8.8' },
    });
    assert.equal((direct.json() as { address: string }).address, '127.0.0.1', 'not a proxy: the header is ignored');
    const proxied = await lg.app.inject({
      url: '/api/v1/whoami',
      remoteAddress: '127.0.0.2',
      headers: { 'x-forwarded-for': '203.0.113.9, 9.9.9.9' },
    });
    assert.equal((proxied.json() as { address: string }).address, '9.9.9.9', 'from the proxy: the hop it saw');
  });

  test('page, health, metrics and security headers', async () => {
    const page = await lg.app.inject({ url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.match(page.body, /<script src="\/vendor\/uPlot\.iife\.min\.js">/);
    assert.equal((await lg.app.inject({ url: '/vendor/uPlot.iife.min.js' })).statusCode, 200);
    assert.deepEqual((await lg.app.inject({ url: '/healthz' })).json(), { status: 'ok', tracesRunning: 0 });
    const metrics = (await lg.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /^vpsline_requests_refused_total\{reason="target"\} \d+/m);
    assert.match(metrics, /^vpsline_traces_running 0$/m);
    assert.match(metrics, /^vpsline_reports_stored_total 4$/m);
  });

  test('the page is compressed, and a returning visitor gets 304 for every file', async () => {
    let raw = 0;
    let first = 0;
    let again = 0;
    for (const url of [
      '/',
      '/app.js',
      '/chart.js',
      '/share.js',
      '/i18n.js',
      '/style.css',
      '/vendor/uPlot.iife.min.js',
    ]) {
      const plain = await lg.app.inject({ url });
      const packed = await lg.app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
      assert.equal(packed.headers['content-encoding'], 'gzip', url);
      assert.equal(gunzipSync(packed.rawPayload).toString(), plain.body, `${url}: the same file`);
      const etag = packed.headers.etag as string;
      assert.match(etag, /^"/, `${url} has an ETag`);
      const repeat = await lg.app.inject({
        url,
        headers: { 'accept-encoding': 'gzip', 'if-none-match': etag },
      });
      assert.equal(repeat.statusCode, 304, url);
      raw += plain.rawPayload.length;
      first += packed.rawPayload.length;
      again += repeat.rawPayload.length;
    }
    // The figures the README quotes: what a first visit and a repeat visit transfer (bodies only).
    console.log(`page bytes: ${raw} uncompressed, first visit ${first} gzip, repeat visit ${again}`);
    assert.equal(again, 0);
  });

  test('health checks are not counted against the request rate (600 a minute per client)', async () => {
    for (let i = 0; i < 650; i++) {
      const r = await lg.app.inject({ url: '/healthz', remoteAddress: '192.0.2.80' });
      assert.equal(r.statusCode, 200, `poll ${i}`);
    }
  });

  test("the router's own refusals have the one error shape and the security headers", async () => {
    const long = await lg.app.inject({ url: `/api/v1/traces/${'a'.repeat(5000)}` });
    assert.equal(long.statusCode, 414);
    assert.deepEqual(long.json(), {
      error: 'the address is too long',
      code: 'uri-too-long',
      message: { en: 'the address is too long', zh: '网址过长' },
    });
    assert.match(long.headers['content-security-policy'] as string, /default-src 'self'/);
    assert.equal(long.headers['x-content-type-options'], 'nosniff');
    const bad = await lg.app.inject({ url: '/api/v1/traces/%E0%A4%A' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(bad.json()), ['error', 'code', 'message']);
    assertRefusalShape(bad.json());
    assert.equal(bad.headers['x-frame-options'], 'DENY');
  });
});

describe('looking glass traces (loopback only)', () => {
  let dir: string;
  let lg: LookingGlass;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-run-'));
    lg = await createLookingGlass({
      db: join(dir, 'lg.db'),
      dns: false,
      allow: ['127.0.0.0/8'],
      allowSelf: true,
      limits: { maxPerClient: 1, tracesPerClientPerHour: 3, defaultCount: 2, interval: 0.05 },
    });
  });
  after(async () => {
    await lg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a visitor traces back to itself; the result is mtr JSON plus a verdict; limits answer 429', async () => {
    const start = await lg.app.inject({
      method: 'POST',
      url: '/api/v1/traces',
      payload: {},
      remoteAddress: '127.0.0.1',
    });
    assert.equal(start.statusCode, 202, start.body);
    const { id } = start.json() as { id: string };
    const busy = await lg.app.inject({
      method: 'POST',
      url: '/api/v1/traces',
      payload: {},
      remoteAddress: '127.0.0.1',
    });
    assert.equal(busy.statusCode, 429, 'one running trace per client');
    assert.ok(Number(busy.headers['retry-after']) > 0);
    let doc: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) {
      doc = (await lg.app.inject({ url: `/api/v1/traces/${id}` })).json() as Record<string, unknown>;
      if (doc.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(doc.status, 'done');
    const report = doc.report as { mtr: { dst: string }; hubs: { host: string; Snt: number }[] };
    assert.equal(report.mtr.dst, '127.0.0.1');
    assert.equal(report.hubs[0]!.host, '127.0.0.1');
    assert.equal(report.hubs[0]!.Snt, 2);
    assert.equal(typeof doc.verdict, 'string');
    // A finished trace's event stream gives the stored result, then ends.
    const events = await lg.app.inject({ url: `/api/v1/traces/${id}/events` });
    assert.match(events.headers['content-type'] as string, /^text\/event-stream/);
    assert.match(events.body, /^event: end\ndata: \{"status":"done","result":/m);
    // Naming one's own address as the target is still tracing oneself: no token needed.
    const self = await lg.app.inject({
      method: 'POST',
      url: '/api/v1/traces',
      payload: { target: '127.0.0.1', count: 1 },
      remoteAddress: '127.0.0.1',
    });
    assert.equal(self.statusCode, 202, self.body);
    const other = await lg.app.inject({
      method: 'POST',
      url: '/api/v1/traces',
      payload: { target: '127.0.0.2' },
      remoteAddress: '127.0.0.1',
    });
    assert.equal(other.statusCode, 401, 'another address needs a token');
  });
});

test('a trace stopped by the server shutting down is stored as interrupted, with what it measured', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-stop-'));
  const db = join(dir, 'lg.db');
  try {
    const lg = await createLookingGlass({
      db,
      dns: false,
      allow: ['127.0.0.0/8'],
      allowSelf: true,
      limits: { maxCount: 100, interval: 0.05 },
    });
    const start = await lg.app.inject({
      method: 'POST',
      url: '/api/v1/traces',
      payload: { count: 100 },
      remoteAddress: '127.0.0.1',
    });
    assert.equal(start.statusCode, 202, start.body);
    const { id } = start.json() as { id: string };
    await new Promise((r) => setTimeout(r, 400));
    await lg.close(); // what SIGTERM does
    const again = await createLookingGlass({ db, dns: false });
    try {
      const doc = (await again.app.inject({ url: `/api/v1/traces/${id}` })).json() as {
        status: string;
        report?: { hubs: { Snt: number }[] };
      };
      assert.equal(doc.status, 'interrupted');
      const sent = doc.report?.hubs[0]?.Snt ?? 0;
      assert.ok(sent > 0 && sent < 100, `${sent} probes sent of 100`);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('budgets per IPv6 /48 as well as per /64: a site cannot spread over its 65,536 /64s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-48-'));
  const lg = await createLookingGlass({
    db: join(dir, 'lg.db'),
    dns: false,
    limits: { uploadsPerClientPerHour: 100, uploadsPerNetworkPerHour: 2 },
  });
  try {
    const upload = (from: string) =>
      lg.app.inject({
        method: 'POST',
        url: '/api/v1/reports',
        payload: { text: MTR_REPORT },
        headers: { 'content-type': 'application/json' },
        remoteAddress: from,
      });
    assert.equal((await upload('2001:db8:7:1::1')).statusCode, 201);
    assert.equal((await upload('2001:db8:7:2::1')).statusCode, 201);
    const third = await upload('2001:db8:7:3::1');
    assert.equal(third.statusCode, 429, 'a third /64 of the same /48');
    assert.equal((await upload('2001:db8:8:1::1')).statusCode, 201, 'another /48 has its own budget');
  } finally {
    await lg.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flood of refused requests is throttled and adds a few audit rows; the store size is in /metrics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-flood-'));
  const lg = await createLookingGlass({ db: join(dir, 'lg.db'), dns: false });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = await lg.app.inject({
        method: 'POST',
        url: '/api/v1/traces',
        payload: { target: '198.51.100.7' },
        remoteAddress: '203.0.113.66',
      });
      statuses.push(r.statusCode);
      if (r.statusCode === 429) assert.equal(r.json().code, 'request-rate');
    }
    // 600 requests a minute reach the handler (each refused: no token); the rest are cut off before it.
    // (A flood that crosses a minute's end gets a fresh window: then more than 600 pass.)
    const passed = statuses.filter((s) => s === 401).length;
    assert.ok(passed >= 600 && passed < 1000, `${passed} reached the handler`);
    assert.equal(statuses.filter((s) => s === 429).length, 1000 - passed);
    // Another client is served meanwhile.
    const other = await lg.app.inject({ url: '/api/v1/whoami', remoteAddress: '203.0.113.67' });
    assert.equal(other.statusCode, 200);
    await lg.close();
    const { Store } = await import('../../src/server/store.js');
    const store = new Store(join(dir, 'lg.db'));
    const rows = store.auditLog(2000).filter((r) => r.client === '203.0.113.66');
    // One row per reason (no token, request rate) and minute: four if the flood crossed a minute's end.
    assert.ok(rows.length >= 2 && rows.length <= 4, `${rows.length} rows`);
    assert.equal(
      rows.reduce((n, r) => n + (r.count ?? 0), 0),
      1000,
    );
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const again = await createLookingGlass({
    db: join(scratchDir('vpsline-lg-m-'), 'lg.db'),
    dns: false,
  });
  try {
    assert.match((await again.app.inject({ url: '/metrics' })).body, /^vpsline_store_bytes \d+$/m);
  } finally {
    await again.close();
  }
});
