// The watch's pictures API, in process (Fastify's inject) over a real SQLite
// watch history written through the real detectors: ten days at 10 minutes,
// samples kept for three, evening loss planted in Beijing time, a route and
// line change half-way. Series come as samples for short recent ranges and as
// hours for long ones, always bounded; refusals carry their codes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProbeEngine } from '../../src/probe/engine.js';
import { createLookingGlass, type LookingGlass } from '../../src/server/app.js';
import { MAX_POINTS } from '../../src/server/plugins/watch.js';
import { scratchDir } from '../support/scratch.js';
import { EVENING_BEIJING, type History, plantedLoss, WATCH_TARGET, writeHistory } from '../support/watch-history.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

interface Series {
  resolution: string;
  stepMs: number;
  t: number[];
  loss: (number | null)[];
  p10: (number | null)[];
  p25: (number | null)[];
  p50: (number | null)[];
  p75: (number | null)[];
  p90: (number | null)[];
  verdict: (string | null)[];
  pathId: (number | null)[];
  lines: Record<string, { en: string; zh: string }>;
}

describe('watch pictures API', () => {
  let lg: LookingGlass;
  let bare: LookingGlass;
  let h: History;
  let engine: ProbeEngine;
  const dir = scratchDir('vpsline-watch-api-');

  before(async () => {
    h = writeHistory(join(dir, 'watch.db'), {
      days: 10,
      intervalS: 600,
      // On the hour: a range of whole days holds whole hours.
      end: Math.floor(Date.now() / HOUR) * HOUR,
      retention: { detailDays: 3, hourlyDays: 400 },
    });
    engine = new ProbeEngine();
    lg = await createLookingGlass({ db: join(dir, 'lg.db'), engine, dns: false, watch: { store: h.store } });
    bare = await createLookingGlass({ db: join(dir, 'lg2.db'), engine, dns: false });
  });
  after(async () => {
    await lg.close();
    await bare.close();
    h.store.close();
    engine.close();
  });

  const get = async (url: string, app = lg) => {
    const res = await app.app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };
  const iso = (t: number): string => new Date(t).toISOString();
  const q = (o: Record<string, string | number>): string =>
    new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString();

  test('targets: name, address, last sample and its line', async () => {
    const { status, body } = await get('/api/v1/watch/targets');
    assert.equal(status, 200);
    assert.equal(body.running, false);
    assert.deepEqual(body.retention, { detailDays: 3, hourlyDays: 400 });
    assert.equal(body.targets.length, 1);
    const t = body.targets[0];
    assert.equal(t.name, WATCH_TARGET.name);
    assert.equal(t.address, WATCH_TARGET.address);
    assert.equal(t.lastSample, h.end - 600_000);
    assert.equal(t.verdict, 'cn2-gia');
    assert.equal(body.lines['cn2-gia'].en, 'CN2 GIA');
    assert.match(body.lines['cn2-gia'].zh, /精品/);
    const who = await get('/api/v1/whoami');
    assert.equal(who.body.watch, true);
  });

  test('a day: every sample in the range, its figures as stored, in order', async () => {
    const from = h.end - DAY;
    const { status, body } = await get(
      `/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from: iso(from), to: iso(h.end) })}`,
    );
    assert.equal(status, 200);
    const s = body as Series;
    assert.equal(s.resolution, 'sample');
    assert.equal(s.stepMs, 600_000);
    const stored = h.store.samples(WATCH_TARGET.name, from, h.end);
    assert.equal(s.t.length, 144);
    assert.deepEqual(
      s.t,
      stored.map((x) => x.t),
    );
    assert.deepEqual(
      s.p50,
      stored.map((x) => x.rtt?.p50 ?? null),
    );
    assert.deepEqual(
      s.p10,
      stored.map((x) => x.rtt?.p10 ?? null),
    );
    assert.deepEqual(
      s.verdict,
      stored.map((x) => x.verdict),
    );
    for (const k of ['loss', 'p25', 'p75', 'p90', 'pathId'] as const) assert.equal(s[k].length, 144, k);
    for (let i = 0; i < s.t.length; i++) {
      assert.ok((s.t[i] as number) >= from && (s.t[i] as number) < h.end);
      assert.equal(s.loss[i], plantedLoss(s.t[i] as number));
      assert.ok((s.p10[i] as number) <= (s.p25[i] as number) && (s.p25[i] as number) <= (s.p50[i] as number));
      assert.ok((s.p50[i] as number) <= (s.p75[i] as number) && (s.p75[i] as number) <= (s.p90[i] as number));
    }
    // Milliseconds work as well as ISO.
    const again = await get(`/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from, to: h.end })}`);
    assert.deepEqual(again.body.t, s.t);
  });

  test('ten days: hour rollups (older than the kept samples), one per hour with its line', async () => {
    const from = h.start;
    const { status, body } = await get(`/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from, to: h.end })}`);
    assert.equal(status, 200);
    const s = body as Series;
    assert.equal(s.resolution, 'hour');
    assert.equal(s.stepMs, HOUR);
    assert.equal(s.t.length, 10 * 24);
    assert.ok(s.t.every((t) => t % HOUR === 0));
    assert.ok(s.t.length <= MAX_POINTS);
    // The hours before and after the switch name their line; each hour's loss is its samples' mean.
    assert.equal(s.verdict[0], 'chinanet-163');
    assert.equal(s.verdict.at(-1), 'cn2-gia');
    assert.ok(s.lines['chinanet-163'] && s.lines['cn2-gia']);
    for (let i = 0; i < s.t.length; i++) {
      assert.ok(
        Math.abs((s.loss[i] as number) - plantedLoss(s.t[i] as number)) < 1e-9,
        `hour ${iso(s.t[i] as number)}`,
      );
      assert.ok((s.p10[i] as number) <= (s.p50[i] as number) && (s.p50[i] as number) <= (s.p90[i] as number));
    }
  });

  test('a day older than the kept samples comes as hours; a range with too many samples too', async () => {
    const old = await get(
      `/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from: h.end - 6 * DAY, to: h.end - 5 * DAY })}`,
    );
    assert.equal(old.body.resolution, 'hour');
    assert.equal(old.body.t.length, 24);
    // Four days at one minute: 5760 samples, all kept, over the bound.
    const dense = writeHistory(join(dir, 'dense.db'), { days: 4, intervalS: 60 });
    const app = await createLookingGlass({
      db: join(dir, 'lg3.db'),
      engine,
      dns: false,
      watch: { store: dense.store },
    });
    try {
      const url = (days: number): string =>
        `/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from: dense.end - days * DAY, to: dense.end })}`;
      const many = await get(url(4), app);
      assert.equal(many.body.resolution, 'hour');
      assert.ok(many.body.t.length <= 4 * 24 && many.body.t.length >= 4 * 24 - 1, `${many.body.t.length} hours`);
      const three = await get(url(3), app);
      assert.equal(three.body.resolution, 'sample');
      assert.equal(three.body.t.length, 3 * 1440);
      assert.ok(three.body.t.length <= MAX_POINTS);
      assert.equal(three.body.stepMs, 60_000);
    } finally {
      await app.close();
      dense.store.close();
    }
  });

  test('events in the range: the route change and the line change at the switch, evening loss episodes', async () => {
    const { status, body } = await get(
      `/api/v1/watch/events?${q({ target: WATCH_TARGET.name, from: h.start, to: h.end })}`,
    );
    assert.equal(status, 200);
    const types = (body.events as { type: string; start: number }[]).map((e) => e.type);
    assert.equal(types.filter((x) => x === 'route-change').length, 1);
    assert.equal(types.filter((x) => x === 'verdict-change').length, 1);
    const change = body.events.find((e: { type: string }) => e.type === 'verdict-change');
    assert.equal(change.start, h.switchAt);
    assert.ok(body.lines['cn2-gia']);
    const losses = body.events.filter((e: { type: string }) => e.type === 'loss');
    assert.ok(losses.length >= 9, `${losses.length} loss episodes`);
    // A day's range has that day's evening only.
    const day = await get(`/api/v1/watch/events?${q({ target: WATCH_TARGET.name, from: h.end - DAY, to: h.end })}`);
    assert.ok(day.body.events.length >= 1 && day.body.events.length <= 2, JSON.stringify(day.body.events));
  });

  test('profile: the planted evening in Beijing time, the same hours shifted in UTC', async () => {
    const { status, body } = await get(
      `/api/v1/watch/profile?${q({ target: WATCH_TARGET.name, days: 10, to: h.end })}`,
    );
    assert.equal(status, 200);
    assert.equal(body.timeZone, 'Asia/Shanghai');
    assert.equal(body.hours.length, 24);
    for (const hr of body.hours) {
      if (EVENING_BEIJING.includes(hr.hour)) assert.ok(hr.loss > 0.2, `hour ${hr.hour}: ${hr.loss}`);
      else assert.equal(hr.loss, 0, `hour ${hr.hour}: ${hr.loss}`);
      assert.ok(hr.samples > 0);
    }
    const utc = await get(`/api/v1/watch/profile?${q({ target: WATCH_TARGET.name, days: 10, to: h.end, tz: 'UTC' })}`);
    assert.ok(utc.body.hours[12].loss > 0.2 && utc.body.hours[20].loss === 0);
    assert.ok(body.lines['chinanet-163'] && body.lines['cn2-gia']);
  });

  test('one sample: its hops and the destination as the last row', async () => {
    const t = h.end - 600_000;
    const { status, body } = await get(`/api/v1/watch/sample?${q({ target: WATCH_TARGET.name, t: iso(t) })}`);
    assert.equal(status, 200);
    assert.equal(body.t, t);
    assert.deepEqual(
      body.hops.map((x: { ttl: number; address: string }) => [x.ttl, x.address]),
      [
        [1, '198.18.0.11'],
        [2, '198.18.0.22'],
        [3, WATCH_TARGET.address],
      ],
    );
    assert.equal(body.lines['cn2-gia'].en, 'CN2 GIA');
  });

  test('refusals: unknown target 404, bad times and ranges 400, unknown fields 400, each with its code', async () => {
    const cases: [string, number, string][] = [
      [`/api/v1/watch/series?${q({ target: 'nope' })}`, 404, 'watch-no-target'],
      [`/api/v1/watch/events?${q({ target: 'nope' })}`, 404, 'watch-no-target'],
      [`/api/v1/watch/profile?${q({ target: 'nope' })}`, 404, 'watch-no-target'],
      [`/api/v1/watch/sample?${q({ target: 'nope', t: 1 })}`, 404, 'watch-no-target'],
      [`/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from: 'yesterday' })}`, 400, 'watch-bad-time'],
      [`/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from: h.end, to: h.start })}`, 400, 'watch-bad-range'],
      [`/api/v1/watch/series?${q({ target: WATCH_TARGET.name, from: 0, to: h.end })}`, 400, 'watch-bad-range'],
      [`/api/v1/watch/profile?${q({ target: WATCH_TARGET.name, tz: 'Mars/Olympus' })}`, 400, 'watch-bad-time-zone'],
      [`/api/v1/watch/profile?${q({ target: WATCH_TARGET.name, days: 0 })}`, 400, 'watch-bad-range'],
      [`/api/v1/watch/profile?${q({ target: WATCH_TARGET.name, days: 'x' })}`, 400, 'bad-request'],
      [`/api/v1/watch/sample?${q({ target: WATCH_TARGET.name, t: h.start - DAY })}`, 404, 'watch-no-sample'],
      [`/api/v1/watch/series?${q({ target: WATCH_TARGET.name, limit: 9 })}`, 400, 'unknown-field'],
      ['/api/v1/watch/series', 400, 'bad-request'],
    ];
    for (const [url, status, code] of cases) {
      const r = await get(url);
      assert.equal(r.status, status, `${url}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code, url);
      assert.match(r.body.message.zh, /[\u4e00-\u9fff]/);
    }
  });

  test('without a watch: the routes and the page are 404s, whoami says no', async () => {
    for (const url of ['/api/v1/watch/targets', `/api/v1/watch/series?target=x`, '/watch', '/watch.js'])
      assert.equal((await get(url, bare)).status, 404, url);
    assert.equal((await get('/api/v1/whoami', bare)).body.watch, false);
    assert.equal((await lg.app.inject({ method: 'GET', url: '/watch' })).statusCode, 200);
  });
});
