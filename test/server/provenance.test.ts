// Who measured what, for whom, and what a visitor may hide: the looking glass
// in process (Fastify's inject, a real SQLite file and real probes, to
// loopback only). A trace by visitor 127.0.0.1 back to itself is "measured by
// the server" and "yours" only to 127.0.0.1; that visitor's own mtr report,
// uploaded for the trace, is "measured by the visitor", keeps its figures and
// is compared with the trace; nobody else may upload to the trace, link the
// upload with another trace, or mask either; once masked, no read shows the
// visitor's address or home hops anywhere.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLookingGlass, type LookingGlass } from '../../src/server/app.js';

const VISITOR = '127.0.0.1';
const OTHER = '127.0.0.2';

/**
 * The visitor's own mtr -b report towards the server (here: loopback, the visitor itself): a home router
 * with a name, a CGNAT hop, two CN2 hops (59.43.0.0/16 is only read, never sent to) and the far end
 * with loss that the server's side does not see.
 */
const MTR_REPORT = [
  'Start: 2026-11-28T04:38:04+0000',
  'HOST: home                             Loss%   Snt   Last   Avg  Best  Wrst StDev',
  '  1.|-- router.home.lan (192.168.1.1)    0.0%    10    0.5   0.6   0.4   0.9   0.1',
  '  2.|-- 100.64.3.1                       0.0%    10    2.5   2.6   2.4   2.9   0.2',
  '  3.|-- 59.43.1.1                        0.0%    10   10.1  10.2  10.0  10.5   0.1',
  '  4.|-- 59.43.2.1                        0.0%    10   11.1  11.2  11.0  11.5   0.1',
  '  5.|-- 127.0.0.1                        5.0%    20   12.1  12.2  12.0  12.5   0.1',
].join('\n');
const HOME = ['127.0.0.1', '192.168.1.1', 'router.home.lan', '100.64.3.1'];

interface Hop {
  ttl: number;
  address: string | null;
  name: string | null;
  masked?: boolean;
  avg: number | null;
  lossPercent: number | null;
}

describe('provenance, ownership and masking (loopback only)', () => {
  let dir: string;
  let lg: LookingGlass;
  let traceA: string;
  let traceB: string;
  let uploadA: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-prov-'));
    lg = await createLookingGlass({
      db: join(dir, 'lg.db'),
      dns: false,
      allow: ['127.0.0.0/8'],
      allowSelf: true,
      // No trustProxy: the address a request comes from is the visitor.
      limits: {
        maxPerClient: 1,
        tracesPerClientPerHour: 10,
        uploadsPerClientPerHour: 20,
        defaultCount: 2,
        interval: 0.05,
      },
    });
  });
  after(async () => {
    await lg.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string, remoteAddress = VISITOR) => lg.app.inject({ url, remoteAddress });
  const post = (url: string, payload: unknown, remoteAddress = VISITOR) =>
    lg.app.inject({
      method: 'POST',
      url,
      payload: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
      remoteAddress,
    });
  /** The mask endpoints take no body. */
  const mask = (url: string, remoteAddress: string) => lg.app.inject({ method: 'POST', url, remoteAddress });

  /** A trace by the visitor back to itself, read until it has finished. */
  async function traceToSelf(): Promise<{ id: string; doc: Record<string, unknown> }> {
    const start = await post('/api/v1/traces', {});
    assert.equal(start.statusCode, 202, start.body);
    const { id, target } = start.json() as { id: string; target: string };
    assert.equal(target, VISITOR, 'traces loopback: the visitor itself');
    let doc: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      doc = (await get(`/api/v1/traces/${id}`)).json() as Record<string, unknown>;
      if (doc.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(doc.status, 'done', JSON.stringify(doc).slice(0, 300));
    return { id, doc };
  }

  test('the server is not behind a proxy here: the request address is the visitor', async () => {
    for (const address of [VISITOR, OTHER]) {
      const who = await lg.app.inject({
        url: '/api/v1/whoami',
        remoteAddress: address,
        headers: { 'x-forwarded-for': '198.18.0.9' },
      });
      assert.equal((who.json() as { address: string }).address, address);
    }
  });

  test('a trace: measured by the server, when and how, and yours only to its visitor', async () => {
    const before = Date.now();
    const { id, doc } = await traceToSelf();
    traceA = id;
    assert.equal(doc.measuredBy, 'server');
    assert.equal(doc.target, VISITOR);
    assert.equal(doc.protocol, 'auto');
    assert.equal(doc.count, 2);
    assert.equal(doc.masked, false);
    assert.equal(doc.yours, true);
    const created = Date.parse(doc.createdAt as string);
    const finished = Date.parse(doc.finishedAt as string);
    assert.ok(created >= before - 1000 && created <= Date.now(), `createdAt ${doc.createdAt}`);
    assert.ok(finished >= created && finished <= Date.now(), `finishedAt ${doc.finishedAt}`);
    assert.match(doc.createdAt as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const hops = doc.hops as Hop[];
    assert.ok(
      hops.some((h) => h.address === VISITOR),
      `the trace reached the visitor: ${JSON.stringify(hops)}`,
    );
    const other = (await get(`/api/v1/traces/${id}`, OTHER)).json() as Record<string, unknown>;
    assert.equal(other.yours, false, 'another address is not the visitor');
    assert.equal(other.measuredBy, 'server');
    assert.equal(other.masked, false);
    assert.equal(other.target, VISITOR, 'not masked yet: shown as it is');
  });

  test("the visitor's upload for the trace: by the visitor, every figure, both directions compared", async () => {
    const before = Date.now();
    const up = await post('/api/v1/reports', { text: MTR_REPORT, traceId: traceA });
    assert.equal(up.statusCode, 201, up.body);
    const doc = up.json() as Record<string, unknown>;
    uploadA = doc.id as string;
    assert.equal(doc.measuredBy, 'visitor');
    assert.equal(doc.traceId, traceA);
    assert.equal(doc.masked, false);
    assert.equal(doc.yours, true);
    assert.equal(doc.format, 'mtr-report');
    const created = Date.parse(doc.createdAt as string);
    assert.ok(created >= before - 1000 && created <= Date.now(), `createdAt ${doc.createdAt}`);
    const back = await get(`/api/v1/reports/${uploadA}`);
    assert.equal(back.statusCode, 200, back.body);
    const read = back.json() as Record<string, unknown>;
    assert.equal(read.measuredBy, 'visitor');
    assert.equal(read.body, MTR_REPORT, 'the text as uploaded');
    const hops = read.hops as Hop[];
    assert.deepEqual(
      hops.map((h) => [h.ttl, h.address, h.name, h.avg, h.lossPercent]),
      [
        [1, '192.168.1.1', 'router.home.lan', 0.6, 0],
        [2, '100.64.3.1', null, 2.6, 0],
        [3, '59.43.1.1', null, 10.2, 0],
        [4, '59.43.2.1', null, 11.2, 0],
        [5, '127.0.0.1', null, 12.2, 5],
      ],
    );
    // Compared with the server's trace back: CN2 one way only, loss at the far end one way only, and the
    // visitor's address on both sides paired.
    const comparison = read.comparison as {
      pairs: { forwardTtl: number; reverseTtl: number; by: string }[];
      notes: { code: string; text: { en: string; zh: string } }[];
    };
    assert.ok(comparison, 'compared: its trace has finished');
    const codes = comparison.notes.map((n) => n.code);
    assert.ok(codes.includes('carriers-one-way'), codes.join());
    assert.ok(codes.includes('loss-one-way'), codes.join());
    assert.ok(codes.includes('same-line') !== codes.includes('different-lines'), codes.join());
    for (const n of comparison.notes) assert.ok(n.text.en && /[\u4e00-\u9fff]/.test(n.text.zh), JSON.stringify(n));
    assert.ok(
      comparison.pairs.some((p) => p.forwardTtl === 5 && p.by === 'address'),
      JSON.stringify(comparison.pairs),
    );
    assert.deepEqual(doc.comparison, read.comparison, 'the answer to the upload is what a read gives');
    const other = (await get(`/api/v1/reports/${uploadA}`, OTHER)).json() as Record<string, unknown>;
    assert.equal(other.yours, false);
    assert.equal(other.measuredBy, 'visitor');
  });

  test("nobody else may upload for the visitor's trace", async () => {
    const r = await post('/api/v1/reports', { text: MTR_REPORT, traceId: traceA }, OTHER);
    assert.equal(r.statusCode, 403, r.body);
    assert.equal(r.json().code, 'not-yours');
    // Without a trace, the same text is anyone's upload of their own.
    const own = await post('/api/v1/reports', { text: MTR_REPORT }, OTHER);
    assert.equal(own.statusCode, 201, own.body);
    assert.equal(own.json().traceId, null);
    assert.equal(own.json().comparison, undefined, 'no trace, nothing to compare with');
  });

  test('a link pairs an upload only with its own trace', async () => {
    const { id } = await traceToSelf();
    traceB = id;
    const wrong = await get(`/api/v1/reports/${uploadA}?trace=${traceB}`);
    assert.equal(wrong.statusCode, 409, wrong.body);
    assert.equal(wrong.json().code, 'report-other-trace');
    const right = await get(`/api/v1/reports/${uploadA}?trace=${traceA}`);
    assert.equal(right.statusCode, 200, right.body);
    assert.equal(right.json().traceId, traceA);
  });

  test('only the visitor may mask; then no read shows their address or home hops', async () => {
    for (const url of [`/api/v1/traces/${traceA}/mask`, `/api/v1/reports/${uploadA}/mask`]) {
      const refused = await mask(url, OTHER);
      assert.equal(refused.statusCode, 403, refused.body);
      assert.equal(refused.json().code, 'not-yours');
    }
    const stillOpen = (await get(`/api/v1/traces/${traceA}`, OTHER)).json() as Record<string, unknown>;
    assert.equal(stillOpen.masked, false, 'a refused mask hid nothing');
    const done = await mask(`/api/v1/traces/${traceA}/mask`, VISITOR);
    assert.equal(done.statusCode, 200, done.body);
    assert.deepEqual(done.json(), { masked: true });

    const trace = (await get(`/api/v1/traces/${traceA}`, OTHER)).json() as Record<string, unknown>;
    assert.equal(trace.masked, true);
    assert.equal(trace.measuredBy, 'server');
    assert.equal(trace.status, 'done');
    assert.equal(trace.target, '127.0.*.*');
    assert.ok(!String(trace.target).includes(VISITOR));
    assert.ok(!JSON.stringify(trace).includes(VISITOR), `no ${VISITOR} anywhere: ${JSON.stringify(trace)}`);
    const hops = trace.hops as Hop[];
    const hidden = hops.filter((h) => h.masked);
    assert.ok(hidden.length > 0, JSON.stringify(hops));
    for (const h of hidden) {
      assert.equal(h.address, null);
      assert.equal(h.name, null);
      assert.equal(typeof h.avg, 'number', 'its figures stay');
    }
    // The visitor sees it masked too (a mask is for everyone), still as theirs.
    const own = (await get(`/api/v1/traces/${traceA}`, VISITOR)).json() as Record<string, unknown>;
    assert.equal(own.masked, true);
    assert.equal(own.yours, true);
    assert.ok(!JSON.stringify(own).includes(VISITOR));

    // The upload for the trace is masked with it: no text, no home hop, the rest of the line shown.
    const upload = await get(`/api/v1/reports/${uploadA}`, OTHER);
    assert.equal(upload.statusCode, 200, upload.body);
    const doc = upload.json() as Record<string, unknown>;
    assert.equal(doc.masked, true);
    assert.equal(doc.measuredBy, 'visitor');
    assert.equal('body' in doc, false, 'the pasted text is not returned');
    const text = JSON.stringify(doc);
    for (const word of HOME) assert.ok(!text.includes(word), `no ${word} anywhere: ${text}`);
    assert.deepEqual(
      (doc.hops as Hop[]).map((h) => [h.ttl, h.address, h.name, h.masked ?? false, h.avg]),
      [
        [1, null, null, true, 0.6],
        [2, null, null, true, 2.6],
        [3, '59.43.1.1', null, false, 10.2],
        [4, '59.43.2.1', null, false, 11.2],
        [5, null, null, true, 12.2],
      ],
    );
    assert.ok(doc.comparison, 'still compared');
    // And the events stream of the masked trace, finished, says the same.
    const events = await get(`/api/v1/traces/${traceA}/events`, OTHER);
    assert.match(events.body, /^event: end$/m);
    assert.ok(!events.body.includes(VISITOR), events.body);
    // The other trace was not masked.
    const b = (await get(`/api/v1/traces/${traceB}`, OTHER)).json() as Record<string, unknown>;
    assert.equal(b.masked, false);
  });

  test('an upload made after its trace was masked is masked too; an unknown id is 404', async () => {
    const up = await post('/api/v1/reports', { text: MTR_REPORT, traceId: traceA });
    assert.equal(up.statusCode, 201, up.body);
    const answer = up.json() as Record<string, unknown>;
    // The answer to the upload, and every later read of it.
    const read = (await get(`/api/v1/reports/${answer.id}`, OTHER)).json() as Record<string, unknown>;
    for (const doc of [answer, read]) {
      assert.equal(doc.masked, true);
      assert.equal('body' in doc, false);
      for (const word of HOME) assert.ok(!JSON.stringify(doc).includes(word), word);
    }
    for (const url of ['/api/v1/traces/AAAAAAAAAAAAAAAAAAAAAA/mask', '/api/v1/reports/AAAAAAAAAAAAAAAAAAAAAA/mask'])
      assert.equal((await mask(url, VISITOR)).statusCode, 404);
  });
});

describe('masking a stored trace with more than one responder at a hop', () => {
  // Stored straight into the store (no probe is sent): a trace back to visitor 198.18.1.1 whose home hops
  // (private space, the visitor's /24) each had a second router answering (ECMP). mtr's JSON lists every
  // responder of a hop; the hop list has the first.
  const responder = (address: string, name?: string) => ({
    address,
    ...(name ? { name } : {}),
    received: 2,
    avg: 1,
    best: 1,
    worst: 1,
  });
  const hub = (ttl: number, ...responders: ReturnType<typeof responder>[]) => ({
    count: ttl,
    host: responders[0]!.name ?? responders[0]!.address,
    'Loss%': 0,
    Snt: 2,
    vpsline: { ttl, address: responders[0]!.address, sent: 2, received: 2, responders },
  });
  const liveHop = (ttl: number, address: string, name: string | null = null) => ({
    ttl,
    address,
    name,
    asn: null,
    asName: null,
    carrier: null,
    sent: 2,
    received: 2,
    lossPercent: 0,
    last: 1,
    avg: 1,
    best: 1,
    worst: 1,
    stdev: 0,
  });
  const result = {
    report: {
      mtr: { src: 'lg', dst: '198.18.1.1', tests: 2 },
      hubs: [
        hub(1, responder('198.19.0.1')),
        hub(2, responder('10.1.1.1'), responder('10.1.1.2')),
        hub(3, responder('198.18.1.254', 'bras-1.home.example'), responder('198.18.1.253', 'bras-2.home.example')),
        hub(4, responder('198.18.1.1', 'me.home.example')),
      ],
    },
    verdict: 'other',
    hops: [
      liveHop(1, '198.19.0.1'),
      liveHop(2, '10.1.1.1'),
      liveHop(3, '198.18.1.254', 'bras-1.home.example'),
      liveHop(4, '198.18.1.1', 'me.home.example'),
    ],
  };
  const HIDDEN = [
    '198.18.1.1',
    'me.home.example',
    '10.1.1.1',
    '10.1.1.2',
    '198.18.1.254',
    'bras-1.home.example',
    '198.18.1.253',
    'bras-2.home.example',
  ];

  test('every responder of a home hop is hidden, with its name; the rest of the path stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpsline-lg-ecmp-'));
    const lg = await createLookingGlass({ db: join(dir, 'lg.db'), dns: false });
    try {
      const id = 'ECMPtraceECMPtraceECMP';
      lg.store.insertTrace({
        id,
        createdAt: Date.now(),
        client: '198.18.1.1',
        targetInput: '198.18.1.1',
        target: '198.18.1.1',
        protocol: 'icmp',
        count: 2,
        status: 'running',
      });
      lg.store.finishTrace(id, 'done', JSON.stringify(result), null);
      const open = await lg.app.inject({ url: `/api/v1/traces/${id}`, remoteAddress: '198.18.1.1' });
      for (const word of HIDDEN) assert.ok(open.body.includes(word), `${word} shown before masking`);
      const masked = await lg.app.inject({
        method: 'POST',
        url: `/api/v1/traces/${id}/mask`,
        remoteAddress: '198.18.1.1',
      });
      assert.equal(masked.statusCode, 200, masked.body);
      const read = await lg.app.inject({ url: `/api/v1/traces/${id}`, remoteAddress: '198.19.0.9' });
      assert.equal(read.statusCode, 200, read.body);
      for (const word of HIDDEN) assert.ok(!read.body.includes(word), `no ${word} anywhere: ${read.body}`);
      assert.ok(read.body.includes('198.19.0.1'), 'a hop on the server side is not home');
      const doc = read.json() as { target: string; hops: Hop[] };
      assert.equal(doc.target, '198.18.*.*');
      assert.deepEqual(
        doc.hops.map((h) => [h.ttl, h.address, h.masked ?? false]),
        [
          [1, '198.19.0.1', false],
          [2, null, true],
          [3, null, true],
          [4, null, true],
        ],
      );
    } finally {
      await lg.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
