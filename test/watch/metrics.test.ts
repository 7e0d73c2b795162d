// The watch's /metrics: hand-made samples go through a real Watcher and a
// real SQLite store; the exposition text must carry the latest sample in base
// units, one line_info series per target, counters that match the store (also
// after a restart), and no label that names a hop.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { Verdict } from '../../src/route/classify.js';
import { serveWatchMetrics, WatchMetrics } from '../../src/watch/metrics.js';
import type { SampleSettings } from '../../src/watch/sampler.js';
import { WatchStore } from '../../src/watch/store.js';
import type { Sample, WatchTarget } from '../../src/watch/types.js';
import { scriptedClock, Watcher } from '../../src/watch/watcher.js';
import { scratchDir } from '../support/scratch.js';

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0);
const INTERVAL = 60_000;
const TARGETS: WatchTarget[] = [
  { name: 'Lab CT', address: '198.18.231.1', carrier: 'ct' },
  { name: 'Lab CM', address: '198.18.233.1', carrier: 'cm' },
];
// process() is called directly: the sampler's settings are never used.
const NO_SAMPLER = { intervalS: INTERVAL / 1000, rounds: 3, trace: {}, table: {} } as unknown as SampleSettings;

/** A sample of `target` at interval `n` through the hops `route` (addresses per TTL). */
function sample(
  target: string,
  n: number,
  o: { route: string[]; verdict: Verdict; loss?: number | null; p50?: number },
): Sample {
  const loss = o.loss === undefined ? 0 : o.loss;
  const p50 = o.p50 ?? 20;
  const sent = 10;
  const received = loss === null ? 0 : Math.round(sent * (1 - loss));
  return {
    target,
    t: T0 + n * INTERVAL,
    rounds: sent,
    sent,
    received,
    loss,
    rtt: received
      ? { min: p50 - 2, p10: p50 - 1, p25: p50 - 0.5, p50, p75: p50 + 0.5, p90: p50 + 2, max: p50 + 5 }
      : null,
    hist: {},
    destinationTtl: received ? o.route.length + 1 : null,
    hops: o.route.map((a, i) => ({ ttl: i + 1, address: a, addresses: [a], sent, lost: 0, p50: 5, p90: 6 })),
    verdict: o.verdict,
    confidence: 'high',
    carriers: [],
  };
}

const ROUTE_A = ['198.18.130.1', '198.18.131.1', '198.18.132.1'];
const ROUTE_B = ['198.18.130.1', '198.18.141.1', '198.18.143.1'];

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition text's series (comments skipped). */
function parse(text: string): Series[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(l);
      assert.ok(m, `an exposition line: ${l}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
      return { name: m[1] as string, labels, value: Number(m[3]) };
    });
}

/** A watch on a fresh (or given) database with its metrics; `feed` runs samples through it. */
function watch(db?: string) {
  const file = db ?? join(scratchDir('vpsline-watch-metrics-'), 'watch.db');
  const store = new WatchStore(file);
  const clock = scriptedClock(T0);
  const watcher = new Watcher({ targets: TARGETS, store, sample: NO_SAMPLER, confirm: 3, clock });
  const metrics = new WatchMetrics(watcher, store);
  const target = (name: string): WatchTarget => TARGETS.find((t) => t.name === name) as WatchTarget;
  return {
    file,
    store,
    metrics,
    feed(s: Sample): void {
      clock.set(s.t + INTERVAL);
      watcher.process(target(s.target), s);
    },
    async series(): Promise<Series[]> {
      return parse(await metrics.registry.metrics());
    },
  };
}

const pick = (all: Series[], name: string, labels: Record<string, string> = {}): Series[] =>
  all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const value = (all: Series[], name: string, labels: Record<string, string>): number | undefined => {
  const found = pick(all, name, labels);
  assert.ok(found.length <= 1, `one ${name} series for ${JSON.stringify(labels)}`);
  return found[0]?.value;
};

describe('watch metrics', () => {
  test('the latest sample in base units, every series there from the start', async () => {
    const w = watch();
    const before = await w.series();
    // Before any sample: counters at 0 for both targets, no gauge of a sample yet.
    for (const { name } of TARGETS) {
      assert.equal(value(before, 'vpsline_watch_samples_total', { target: name }), 0);
      assert.equal(value(before, 'vpsline_watch_alerts_total', { target: name }), 0);
      assert.equal(pick(before, 'vpsline_watch_events_total', { target: name }).length, 4, 'one per event type');
      assert.equal(value(before, 'vpsline_watch_loss_ratio', { target: name }), undefined);
    }
    assert.equal(value(before, 'vpsline_watch_interval_seconds', {}), 60);

    w.feed(sample('Lab CT', 0, { route: ROUTE_A, verdict: 'cn2-gia', loss: 0.1, p50: 150 }));
    w.feed(sample('Lab CT', 1, { route: ROUTE_A, verdict: 'cn2-gia', loss: 0.2, p50: 162.5 }));
    const s = await w.series();
    const ct = { target: 'Lab CT' };
    assert.equal(value(s, 'vpsline_watch_loss_ratio', ct), 0.2);
    assert.equal(value(s, 'vpsline_watch_rtt_seconds', { ...ct, quantile: '0.1' }), 0.1615);
    assert.equal(value(s, 'vpsline_watch_rtt_seconds', { ...ct, quantile: '0.5' }), 0.1625);
    assert.equal(value(s, 'vpsline_watch_rtt_seconds', { ...ct, quantile: '0.9' }), 0.1645);
    assert.equal(pick(s, 'vpsline_watch_rtt_seconds', ct).length, 3);
    assert.equal(value(s, 'vpsline_watch_last_sample_timestamp_seconds', ct), (T0 + INTERVAL) / 1000);
    assert.equal(value(s, 'vpsline_watch_samples_total', ct), 2);
    assert.equal(value(s, 'vpsline_watch_probes_sent_total', ct), 20);
    assert.equal(value(s, 'vpsline_watch_probes_answered_total', ct), 17);
    assert.deepEqual(
      pick(s, 'vpsline_watch_line_info', ct).map((x) => [x.labels.line, x.value]),
      [['cn2-gia', 1]],
    );
    assert.equal(value(s, 'vpsline_watch_samples_total', { target: 'Lab CM' }), 0, 'the other target untouched');

    // A sample without replies: loss 1, and no RTT series rather than a stale one.
    w.feed(sample('Lab CT', 2, { route: ROUTE_A, verdict: 'cn2-gia', loss: 1 }));
    const lost = await w.series();
    assert.equal(value(lost, 'vpsline_watch_loss_ratio', ct), 1);
    assert.equal(pick(lost, 'vpsline_watch_rtt_seconds', ct).length, 0);
  });

  test('line_info follows the confirmed line, one series at a time; changes and episodes are counted', async () => {
    const w = watch();
    const ct = { target: 'Lab CT' };
    const lines = async (): Promise<string[]> =>
      pick(await w.series(), 'vpsline_watch_line_info', ct).map((x) => `${x.labels.line}=${x.value}`);
    let n = 0;
    for (let i = 0; i < 4; i++) w.feed(sample('Lab CT', n++, { route: ROUTE_A, verdict: 'cn2-gia' }));
    assert.deepEqual(await lines(), ['cn2-gia=1']);
    // Two samples on GT are not yet a change (confirm: 3); the third is.
    w.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'cn2-gt' }));
    w.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'cn2-gt' }));
    assert.deepEqual(await lines(), ['cn2-gia=1']);
    w.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'cn2-gt' }));
    assert.deepEqual(await lines(), ['cn2-gt=1'], 'the old line series is removed');
    let s = await w.series();
    assert.equal(value(s, 'vpsline_watch_verdict_changes_total', ct), 1);
    assert.equal(value(s, 'vpsline_watch_route_changes_total', ct), 1);
    assert.equal(value(s, 'vpsline_watch_events_total', { ...ct, type: 'route-change' }), 1);
    assert.equal(value(s, 'vpsline_watch_events_total', { ...ct, type: 'verdict-change' }), 1);
    // An inconclusive sample does not move the line.
    w.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'inconclusive' }));
    assert.deepEqual(await lines(), ['cn2-gt=1']);

    // Loss: two bad samples open an episode, two good ones close it.
    const open = async (): Promise<number | undefined> =>
      value(await w.series(), 'vpsline_watch_episode_open', { ...ct, type: 'loss' });
    assert.equal(await open(), 0);
    for (let i = 0; i < 2; i++) w.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'cn2-gt', loss: 0.5 }));
    assert.equal(await open(), 1);
    for (let i = 0; i < 2; i++) w.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'cn2-gt' }));
    assert.equal(await open(), 0);
    s = await w.series();
    assert.equal(value(s, 'vpsline_watch_events_total', { ...ct, type: 'loss' }), 1, 'an episode counts once');
    assert.equal(value(s, 'vpsline_watch_samples_total', ct), n);
    // The counters agree with what the store recorded.
    for (const type of ['route-change', 'verdict-change', 'loss', 'latency'] as const)
      assert.equal(
        value(s, 'vpsline_watch_events_total', { ...ct, type }),
        w.store.events({ target: 'Lab CT', type }).length,
        type,
      );
    w.metrics.alertSent('Lab CT');
    assert.equal(value(await w.series(), 'vpsline_watch_alerts_total', ct), 1);
  });

  test('no hop address in any label, and a fixed number of series per target', async () => {
    const w = watch();
    const perTarget = async (): Promise<Map<string, number>> => {
      const counts = new Map<string, number>();
      for (const s of await w.series()) {
        assert.deepEqual(
          Object.keys(s.labels).filter((k) => !['target', 'quantile', 'line', 'type'].includes(k)),
          [],
          `${s.name}: only bounded labels`,
        );
        for (const v of Object.values(s.labels)) assert.doesNotMatch(v, /^198\.18\.|:/, `${s.name}: no address`);
        if (s.labels.target) counts.set(s.labels.target, (counts.get(s.labels.target) ?? 0) + 1);
      }
      return counts;
    };
    // 200 samples through ever new routers (a new path every 3 samples: route changes too).
    for (let n = 0; n < 200; n++) {
      const k = Math.floor(n / 3);
      const route = [`198.18.10.${k % 250}`, `198.18.11.${(k * 7) % 250}`, `198.18.12.${(k * 13) % 250}`];
      const verdict: Verdict = k % 2 ? 'cn2-gt' : 'cn2-gia';
      w.feed(sample('Lab CT', n, { route, verdict, loss: (n % 5) / 10, p50: 100 + (n % 17) }));
      w.feed(sample('Lab CM', n, { route: ROUTE_A, verdict: 'cmi', loss: null }));
    }
    const counts = await perTarget();
    // loss 1 + rtt 3 + line 1 + timestamp 1 + episodes 2 + samples, sent, answered 3 + route, verdict 2 + events 4
    // + alerts 1 = 18; Lab CM never answered: no loss, no RTT.
    assert.equal(counts.get('Lab CT'), 18);
    assert.equal(counts.get('Lab CM'), 14);
    assert.ok(w.store.events({ target: 'Lab CT', type: 'route-change' }).length > 10, 'routes did change');
  });

  test('a restarted watch carries its counters and line on from the database, hour rollups included', async () => {
    const first = watch();
    let n = 0;
    // Three hours and a bit of samples: the watcher rolls finished hours up as it goes.
    for (; n < 190; n++) {
      const gt = n >= 100;
      first.feed(sample('Lab CT', n, { route: gt ? ROUTE_B : ROUTE_A, verdict: gt ? 'cn2-gt' : 'cn2-gia' }));
    }
    // A last, lone sample names another line: not confirmed, so the line stays GT.
    first.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'cn2-gia', loss: 0.3, p50: 40 }));
    assert.ok(first.store.hours('Lab CT').length >= 2, 'hours were rolled up');
    const was = await first.series();
    first.store.close();

    const again = watch(first.file);
    const now = await again.series();
    const ct = { target: 'Lab CT' };
    for (const name of [
      'vpsline_watch_samples_total',
      'vpsline_watch_probes_sent_total',
      'vpsline_watch_probes_answered_total',
      'vpsline_watch_route_changes_total',
      'vpsline_watch_verdict_changes_total',
      'vpsline_watch_loss_ratio',
      'vpsline_watch_last_sample_timestamp_seconds',
    ])
      assert.equal(value(now, name, ct), value(was, name, ct), name);
    assert.equal(value(now, 'vpsline_watch_samples_total', ct), n);
    assert.equal(value(now, 'vpsline_watch_rtt_seconds', { ...ct, quantile: '0.5' }), 0.04);
    assert.deepEqual(
      pick(now, 'vpsline_watch_line_info', ct).map((x) => x.labels.line),
      ['cn2-gt'],
    );
    assert.equal(pick(now, 'vpsline_watch_line_info', { target: 'Lab CM' }).length, 0, 'no sample, no line');
    again.feed(sample('Lab CT', n++, { route: ROUTE_B, verdict: 'cn2-gt' }));
    assert.equal(value(await again.series(), 'vpsline_watch_samples_total', ct), n);
    again.store.close();
  });

  test('serveWatchMetrics: GET /metrics only, a clear line for a bad address', async () => {
    const w = watch();
    w.feed(sample('Lab CT', 0, { route: ROUTE_A, verdict: 'cn2-gia' }));
    const server = await serveWatchMetrics('127.0.0.1:0', w.metrics);
    try {
      assert.match(server.address, /^127\.0\.0\.1:\d+$/);
      const ask = (method: string, path: string) =>
        new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
          const req = request(`http://${server.address}${path}`, { method }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => {
              body += c;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
            );
          });
          req.on('error', reject);
          req.end();
        });
      const ok = await ask('GET', '/metrics');
      assert.equal(ok.status, 200);
      assert.match(ok.type, /^text\/plain; version=0\.0\.4/);
      assert.match(ok.body, /^vpsline_watch_line_info\{target="Lab CT",line="cn2-gia"\} 1$/m);
      assert.equal((await ask('GET', '/')).status, 404);
      assert.equal((await ask('GET', '/metrics/x')).status, 404);
      assert.equal((await ask('POST', '/metrics')).status, 405);
      assert.equal((await ask('HEAD', '/metrics')).status, 200);
      await assert.rejects(serveWatchMetrics(server.address, w.metrics), /Cannot listen on .* EADDRINUSE/);
    } finally {
      await server.close();
    }
    await assert.rejects(serveWatchMetrics('localhost:99999', w.metrics), (err: Error) => {
      assert.equal(err.name, 'VpslineError');
      assert.match(err.message, /^--metrics-listen wants ADDRESS:PORT/);
      return true;
    });
  });

  test('a registry of its own or a shared one', () => {
    const w = watch();
    const shared = new Registry();
    const store = new WatchStore(join(scratchDir('vpsline-watch-metrics-'), 'w.db'));
    const watcher = new Watcher({ targets: TARGETS, store, sample: NO_SAMPLER });
    const m = new WatchMetrics(watcher, store, shared);
    assert.equal(m.registry, shared);
    assert.ok(shared.getSingleMetric('vpsline_watch_samples_total'));
    assert.notEqual(w.metrics.registry, shared);
    store.close();
  });
});
