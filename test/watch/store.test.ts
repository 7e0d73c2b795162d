// The watch database on a real SQLite file: samples, paths, events, hour
// rollups, retention, and reopening.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { histogramOf, histogramQuantile } from '../../src/watch/histogram.js';
import { WatchStore } from '../../src/watch/store.js';
import type { Sample } from '../../src/watch/types.js';
import { scratchDir } from '../support/scratch.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 2, 0, 0);

function sample(t: number, rtts: number[], verdict: Sample['verdict'], loss = 0): Sample {
  const sorted = [...rtts].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return {
    target: 'x',
    t,
    rounds: rtts.length,
    sent: 10,
    received: 10 - loss * 10,
    loss,
    rtt: { min: at(0), p10: at(0.1), p25: at(0.25), p50: at(0.5), p75: at(0.75), p90: at(0.9), max: at(1) },
    hist: histogramOf(rtts),
    destinationTtl: 3,
    hops: [
      { ttl: 1, address: '198.18.0.1', addresses: ['198.18.0.1'], sent: 10, lost: 0, p50: 1, p90: 2 },
      { ttl: 2, address: '198.18.1.1', addresses: ['198.18.1.1', '198.18.1.2'], sent: 10, lost: 1, p50: 9, p90: 12 },
    ],
    verdict,
    confidence: 'high',
    carriers: ['chinanet-163'],
  };
}

describe('watch store', () => {
  test('a sample reads back as written, ECMP branches included; a confirmed change relabels its samples', () => {
    const file = join(scratchDir('vpsline-wstore-'), 'w.db');
    const store = new WatchStore(file);
    store.addTarget({ name: 'x', address: '198.18.5.5', carrier: 'ct' });
    const s = sample(T0, [10, 11, 12], 'chinanet-163');
    const path = { key: 'a', hops: { '1': ['198.18.0.1'] } };
    store.record({ sample: s, path, newEvents: [], updatedEvents: [], state: { n: 1 } });
    store.record({ sample: sample(T0 + 60_000, [10], 'cn2-gia'), path, newEvents: [], updatedEvents: [], state: {} });
    const [ev] = store.record({
      sample: sample(T0 + 120_000, [10], 'cn2-gia'),
      path: { key: 'b', hops: { '1': ['198.18.9.1'] }, relabelFrom: T0 + 60_000 },
      newEvents: [
        { target: 'x', type: 'route-change', start: T0 + 60_000, end: null, before: 1, after: 2, evidence: {} },
      ],
      updatedEvents: [],
      state: { n: 3 },
    });
    const back = store.samples('x');
    assert.deepEqual({ ...back[0], pathId: undefined }, { ...s, pathId: undefined });
    assert.notEqual(back[0]?.pathId, back[1]?.pathId);
    assert.equal(back[1]?.pathId, back[2]?.pathId);
    assert.deepEqual(store.loadState('x'), { n: 3 });
    assert.equal(store.events({ type: 'route-change' })[0]?.id, ev);
    assert.equal(store.events({ type: 'loss' }).length, 0);
    assert.equal(store.events({ target: 'nobody' }).length, 0);
    store.close();
    // Reopened: everything is still there.
    const again = new WatchStore(file);
    assert.equal(again.samples('x').length, 3);
    assert.deepEqual(again.targets(), [{ name: 'x', address: '198.18.5.5', carrier: 'ct' }]);
    again.close();
  });

  test('hour rollups merge every reply and count verdicts; rerunning changes nothing; retention drops', () => {
    const store = new WatchStore(join(scratchDir('vpsline-wstore-'), 'w.db'), { detailDays: 1, hourlyDays: 2 });
    store.addTarget({ name: 'x', address: '198.18.5.5' });
    const all: number[] = [];
    for (let i = 0; i < 60; i++) {
      const rtts = [20 + (i % 7), 30 + (i % 5), 100 + i];
      all.push(...rtts);
      const s = sample(T0 + i * 60_000, rtts, i < 45 ? 'cn2-gia' : 'chinanet-163', i % 10 === 0 ? 0.2 : 0);
      store.record({ sample: s, path: null, newEvents: [], updatedEvents: [], state: {} });
    }
    assert.deepEqual(store.maintain(T0 + 2 * HOUR), { hours: 1, samplesDropped: 0 });
    store.maintain(T0 + 2 * HOUR);
    const [h] = store.hours('x');
    assert.equal(store.hours('x').length, 1);
    assert.equal(h?.samples, 60);
    assert.deepEqual(h?.verdicts, { 'cn2-gia': 45, 'chinanet-163': 15 });
    assert.ok(Math.abs((h?.loss ?? 0) - 0.02) < 1e-9);
    assert.equal(h?.lossMax, 0.2);
    // The merged median is within the histogram's 2.5 % of the exact one.
    const exact = [...all].sort((a, b) => a - b)[Math.ceil(all.length / 2) - 1] ?? 0;
    assert.ok(Math.abs((histogramQuantile(h?.hist ?? {}, 0.5) ?? 0) / exact - 1) < 0.026);
    // A day later the samples go, the hour stays; two days later the hour goes too.
    assert.equal(store.maintain(T0 + 26 * HOUR).samplesDropped, 60);
    assert.equal(store.hours('x').length, 1);
    store.maintain(T0 + 50 * HOUR);
    assert.equal(store.hours('x').length, 0);
    store.close();
  });
});
