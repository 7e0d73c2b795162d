import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyAccumulator } from '../../src/trace/stats.js';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('mean, sample stdev, geometric mean and extremes in floating point', () => {
  const samples = [10.0, 11.8, 7.7, 19.6, 12.1, 9.95, 14.3];
  const acc = new LatencyAccumulator();
  for (const s of samples) acc.add(s);
  const st = acc.snapshot();
  const mean = samples.reduce((a, b) => a + b) / samples.length;
  const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1);
  close(st.mean, mean);
  close(st.stdev, Math.sqrt(variance));
  close(st.gmean, Math.exp(samples.reduce((a, b) => a + Math.log(b), 0) / samples.length));
  assert.equal(st.best, 7.7);
  assert.equal(st.worst, 19.6);
  assert.equal(st.last, 14.3);
  assert.equal(st.received, samples.length);
});

test("jitter: mtr's meanings (Jttr newest, Javg mean of differences, Jmax, RFC 3550 estimator)", () => {
  const samples = [5, 8, 6, 6, 12];
  const acc = new LatencyAccumulator();
  for (const s of samples) acc.add(s);
  const st = acc.snapshot();
  const diffs = [3, 2, 0, 6];
  assert.equal(st.jitter, 6);
  close(st.jitterMean, diffs.reduce((a, b) => a + b) / diffs.length);
  assert.equal(st.jitterMax, 6);
  let j = 0;
  for (const d of diffs) j += (d - j) / 16;
  close(st.jitterInterarrival, j);
});

test('no samples and one sample give zeros, not NaN', () => {
  const empty = new LatencyAccumulator().snapshot();
  for (const v of Object.values(empty)) assert.equal(v, 0);
  const one = new LatencyAccumulator();
  one.add(3.5);
  const st = one.snapshot();
  assert.equal(st.stdev, 0);
  assert.equal(st.jitterMean, 0);
  assert.equal(st.mean, 3.5);
});

test('sub-0.1 ms differences survive (mtr truncates its mean to whole microseconds at every step)', () => {
  const acc = new LatencyAccumulator();
  for (const s of [0.0411, 0.0412, 0.0413]) acc.add(s);
  close(acc.snapshot().mean, 0.0412, 1e-12);
});

test('Gmean stays within [Best, Avg] (AM-GM) despite the rounding of a long sum of logs', () => {
  for (const x of [0.004, 123.456, 6.56114643438522e-287]) {
    const acc = new LatencyAccumulator();
    for (let i = 0; i < 300; i++) acc.add(x);
    // exp(mean of logs) alone gives 0.004000000000000076 and 123.45599999999857.
    assert.equal(acc.snapshot().gmean, x);
  }
});
