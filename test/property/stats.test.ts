// Properties of the latency statistics over generated RTT series: every
// figure finite and in its range, the same as a two-pass computation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LatencyAccumulator, type LatencyStats } from '../../src/trace/stats.js';
import { rtt, runs } from './arbitraries.js';

function stats(samples: number[]): LatencyStats {
  const acc = new LatencyAccumulator();
  for (const x of samples) acc.add(x);
  return acc.snapshot();
}

/** Equal within a relative error that floating point allows over n steps. */
const near = (a: number, b: number, scale: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(scale, 1e-300);

const series = fc.oneof(
  fc.array(rtt, { minLength: 0, maxLength: 50 }),
  // Many equal samples (stdev must stay exactly 0, not sqrt of a rounding error).
  fc.tuple(rtt, fc.integer({ min: 1, max: 500 })).map(([x, n]) => Array.from({ length: n }, () => x)),
  // A large series around one value, with tiny differences.
  fc
    .tuple(rtt, fc.array(fc.double({ min: 0, max: 1e-6, noNaN: true }), { minLength: 2, maxLength: 400 }))
    .map(([x, ds]) => ds.map((d) => x + d)),
);

test('every statistic is a finite number >= 0, whatever the samples', () => {
  fc.assert(
    fc.property(series, (samples) => {
      for (const [k, v] of Object.entries(stats(samples)))
        assert.ok(Number.isFinite(v) && v >= 0, `${k} = ${v} for ${samples.length} samples`);
    }),
    { numRuns: runs(400) },
  );
});

test('Best <= Gmean <= Avg <= Wrst, Last is the newest, jitter figures ordered', () => {
  fc.assert(
    fc.property(series, (samples) => {
      const s = stats(samples);
      assert.equal(s.received, samples.length);
      if (samples.length === 0) return;
      assert.equal(s.best, Math.min(...samples));
      assert.equal(s.worst, Math.max(...samples));
      assert.equal(s.last, samples.at(-1));
      assert.ok(s.best <= s.mean && s.mean <= s.worst, `mean ${s.mean} outside [${s.best}, ${s.worst}]`);
      // exp(mean of logs) is exact to ~1e-12 relative, but not in the subnormal range (absolute slack).
      if (s.gmean > 0) assert.ok(s.gmean <= s.mean * (1 + 1e-12) + 1e-300 && s.gmean >= s.best * (1 - 1e-12) - 1e-300);
      assert.ok(s.jitter <= s.jitterMax && s.jitterMean <= s.jitterMax * (1 + 1e-12));
      assert.ok(s.jitterInterarrival <= s.jitterMax);
      assert.ok(s.stdev <= s.worst - s.best || s.stdev === 0 || near(s.stdev, s.worst - s.best, s.worst));
    }),
    { numRuns: runs(400) },
  );
});

test('Avg, StDev, Gmean and Javg agree with a two-pass computation', () => {
  fc.assert(
    fc.property(series, (samples) => {
      const s = stats(samples);
      const n = samples.length;
      if (n === 0) return;
      const mean = samples.reduce((a, b) => a + b, 0) / n;
      const sd = n > 1 ? Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
      assert.ok(near(s.mean, mean, s.worst), `mean ${s.mean} vs ${mean}`);
      // Below about 1e-154 ms the squares are subnormal, and the two-pass reference itself loses its
      // digits (seed -1810402980 found [3.2e-161, 0, 0]); there, only finite and >= 0 is asked (above).
      if (s.worst >= 1e-150) assert.ok(Math.abs(s.stdev - sd) <= 1e-7 * s.worst, `stdev ${s.stdev} vs ${sd}`);
      if (samples.every((x) => x > 0)) {
        const g = Math.exp(samples.reduce((a, b) => a + Math.log(b), 0) / n);
        // Relative rounding grows with |log x| (2e-12 near 1e-287 ms): compare at 1e-11.
        assert.ok(Math.abs(s.gmean - g) <= 1e-11 * g, `gmean ${s.gmean} vs ${g}`);
      } else assert.equal(s.gmean, 0);
      const diffs = samples.slice(1).map((x, i) => Math.abs(x - (samples[i] ?? x)));
      const javg = diffs.length ? diffs.reduce((a, b) => a + b, 0) / diffs.length : 0;
      assert.ok(near(s.jitterMean, javg, s.worst), `javg ${s.jitterMean} vs ${javg}`);
      assert.equal(s.jitter, diffs.at(-1) ?? 0);
    }),
    { numRuns: runs(400) },
  );
});
