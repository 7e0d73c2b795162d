// Verdict changes and loss/latency episodes, sample by sample.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  baseline,
  DEFAULT_EPISODES,
  emptyEpisode,
  lossFrom,
  observeLatency,
  observeLoss,
  observeVerdict,
  type VerdictState,
} from '../../src/watch/episodes.js';
import type { Sample } from '../../src/watch/types.js';
import { flatRtt } from '../support/watch-sample.js';

const MIN = 60_000;

function sample(i: number, over: Partial<Sample> = {}): Sample {
  return {
    target: 't',
    t: i * MIN,
    rounds: 10,
    sent: 10,
    received: 10,
    loss: 0,
    rtt: { min: 30, p10: 30, p25: 30, p50: 30, p75: 30, p90: 30, max: 30 },
    hist: {},
    destinationTtl: 5,
    hops: [],
    verdict: 'chinanet-163',
    confidence: 'high',
    carriers: ['chinanet-163'],
    ...over,
  };
}
const rtt = flatRtt;

describe('verdict changes', () => {
  test('three conclusive samples in a row name the new line; the change is dated at the first', () => {
    const st: VerdictState = { verdict: null, candidate: null };
    const seq = ['chinanet-163', 'cn2-gia', 'inconclusive', 'cn2-gia', 'chinanet-163', 'cn2-gia', 'cn2-gia', 'cn2-gia'];
    const changes = seq.map((v, i) => observeVerdict(st, sample(i, { verdict: v as Sample['verdict'] }), 3));
    const real = changes.filter((c) => c !== null);
    assert.equal(real.length, 1);
    assert.deepEqual(real[0], { at: 5 * MIN, before: 'chinanet-163', after: 'cn2-gia', samples: 3 });
  });

  test('alternating lines (a route split between two) is no change', () => {
    const st: VerdictState = { verdict: null, candidate: null };
    for (let i = 0; i < 50; i++)
      assert.equal(observeVerdict(st, sample(i, { verdict: i % 2 ? 'cn2-gia' : 'chinanet-163' }), 3), null);
  });
});

describe('loss episodes', () => {
  test('two bad samples open one, dated at the first; two good ones close it at the end of the last bad', () => {
    const st = emptyEpisode();
    const losses = [0, 0.1, 0, 0.2, 0.3, 0.1, 0, 0.1, 0, 0, 0];
    const updates = losses.map((loss, i) => observeLoss(st, sample(i, { loss }), MIN, DEFAULT_EPISODES));
    const seen = updates.flatMap((u, i) => (u ? [[i, u.kind, u.episode.start, u.episode.end]] : []));
    assert.deepEqual(seen, [
      [4, 'opened', 3 * MIN, null],
      [9, 'closed', 3 * MIN, 8 * MIN],
    ]);
  });

  test('a sample with nothing measured (loss null) is neither good nor bad', () => {
    const st = emptyEpisode();
    const set = DEFAULT_EPISODES;
    assert.equal(observeLoss(st, sample(0, { loss: 0.5 }), MIN, set), null);
    assert.equal(observeLoss(st, sample(1, { loss: null }), MIN, set), null);
    assert.equal(observeLoss(st, sample(2, { loss: 0.5 }), MIN, set)?.kind, 'opened');
  });

  test('the hop the loss starts at: the first from which every answering hop loses', () => {
    const hop = (ttl: number, lost: number) => ({
      ttl,
      address: `198.18.0.${ttl}`,
      addresses: [`198.18.0.${ttl}`],
      sent: 10,
      lost,
      p50: 1,
      p90: 1,
    });
    // TTL 2 limits its own answers (loss not carried on); from TTL 4 on it is real.
    const s = sample(0, { loss: 0.4, hops: [hop(1, 0), hop(2, 5), hop(3, 0), hop(4, 4), hop(5, 10), hop(6, 3)] });
    assert.equal(lossFrom(s), 4);
  });
});

describe('latency episodes', () => {
  test('judged against the median of earlier medians, once ten are known', () => {
    const st = emptyEpisode();
    const set = DEFAULT_EPISODES;
    const medians = [...Array(12).fill(30), 31, 80, 90, 85, 30, 30, 30];
    const kinds = medians.map((ms, i) => observeLatency(st, sample(i, { rtt: rtt(ms) }), MIN, set)?.kind ?? '-');
    assert.deepEqual(kinds.join(' '), '- - - - - - - - - - - - - - opened - - closed -');
    assert.equal(baseline(st), 30);
  });

  test('a small rise is not an episode; a lasting one becomes the new normal and its episode ends', () => {
    const st = emptyEpisode();
    const set = { ...DEFAULT_EPISODES, baselineSamples: 20 };
    // 2 -> 4 ms doubles but is under 5 ms more: no episode. 100 ms is, until it is most of the window.
    const medians = [...Array(10).fill(2), 4, 4, 4, ...Array(30).fill(100)];
    const updates = medians.map((ms, i) => observeLatency(st, sample(i, { rtt: rtt(ms) }), MIN, set));
    const seen = updates.flatMap((u, i) => (u ? [[u.kind, i]] : []));
    assert.deepEqual(
      seen.map(([k]) => k),
      ['opened', 'closed'],
    );
    assert.equal(seen[0]?.[1], 14);
    assert.equal(baseline(st), 100);
  });
});
