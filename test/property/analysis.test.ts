// Properties of the analysis over generated reports: it never throws, every
// finding cites hops the report has and that show what the finding says,
// the destination's silence is always said, and jitter alone is never a
// latency rise.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { analyzeReport } from '../../src/trace/analysis.js';
import type { TraceReport } from '../../src/trace/trace.js';
import { report, runs, spread, steadyHop } from './arbitraries.js';
import { checkFindings } from './findings.js';

const RUNS = runs(300);

describe('analysis over generated reports', () => {
  test('never throws; every finding cites real hops that show it, in English and Chinese', () => {
    fc.assert(
      fc.property(report(), fc.constantFrom('en' as const, 'zh' as const), (r, lang) => {
        checkFindings(r, analyzeReport(r, lang));
      }),
      { numRuns: RUNS },
    );
  });

  test('the same on live snapshots (probes in flight) and on 100 to 255 hops', () => {
    fc.assert(
      fc.property(report({ live: true }), (r) => checkFindings(r, analyzeReport(r))),
      { numRuns: RUNS / 3 },
    );
    fc.assert(
      fc.property(report({ hops: { min: 100, max: 255 } }), (r) => checkFindings(r, analyzeReport(r))),
      { numRuns: runs(15) },
    );
  });

  test('English and Chinese say the same findings on the same hops with the same figures', () => {
    fc.assert(
      fc.property(report(), (r) => {
        const strip = (lang: 'en' | 'zh') => analyzeReport(r, lang).map(({ message: _m, ...rest }) => rest);
        assert.deepEqual(strip('zh'), strip('en'));
      }),
      { numRuns: RUNS },
    );
  });

  test('a destination that did not answer is always said, and one that did never is', () => {
    fc.assert(
      fc.property(report(), (r) => {
        const codes = analyzeReport(r).map((f) => f.code);
        const last = r.hops.at(-1);
        const silent = r.destinationTtl === null && !last?.unreachable;
        assert.equal(codes.includes('destination-silent'), silent, `${codes.join()} for ${r.destinationTtl}`);
        if (last?.unreachable) assert.ok(codes.includes('destination-unreachable'), codes.join());
        if (silent || last?.unreachable) assert.ok(!codes.includes('clean'));
      }),
      { numRuns: RUNS },
    );
  });

  // A path whose hops share the floor F up to hop k, then cross a link of
  // M +- J ms (samples spread evenly over it, in random order) to the end.
  const path = (spreadShare: [number, number]) =>
    fc
      .record({
        floor: fc.double({ min: 0.1, max: 40, noNaN: true }),
        mean: fc.double({ min: 20, max: 300, noNaN: true }),
        share: fc.double({ min: spreadShare[0], max: spreadShare[1], noNaN: true }),
        before: fc.integer({ min: 1, max: 5 }),
        after: fc.integer({ min: 1, max: 5 }),
        n: fc.integer({ min: 3, max: 20 }),
      })
      .chain((p) =>
        fc
          .tuple(
            ...Array.from({ length: p.after }, (_, i) =>
              spread(p.floor + p.mean + (i ? 0.5 * i : 0), p.share * p.mean, p.n),
            ),
          )
          .map((links) => {
            const hops = [
              ...Array.from({ length: p.before }, (_, i) =>
                steadyHop(
                  i + 1,
                  Array.from({ length: p.n }, (_, j) => p.floor + (j % 2) * 0.05),
                ),
              ),
              ...links.map((samples, i) => steadyHop(p.before + 1 + i, samples)),
            ];
            const r: TraceReport = { ...base, hops, destinationTtl: hops.length };
            return { r, k: p.before + 1 };
          }),
      );

  test('jitter alone (M +- J ms, J >= M/2) is never a latency rise, and is said from the hop it reaches', () => {
    fc.assert(
      fc.property(path([0.5, 1]), ({ r, k }) => {
        const f = analyzeReport(r);
        checkFindings(r, f);
        assert.ok(!f.some((x) => x.code === 'latency-jump'), f.map((x) => x.message).join('\n'));
        const j = f.find((x) => x.code === 'jitter');
        assert.ok(j, f.map((x) => x.message).join('\n'));
        assert.equal(j.params.ttl, k);
      }),
      { numRuns: RUNS },
    );
  });

  test('a real rise with little jitter (J <= M/4) is a latency rise at the hop it reaches', () => {
    fc.assert(
      fc.property(path([0, 0.25]), ({ r, k }) => {
        const f = analyzeReport(r);
        checkFindings(r, f);
        const jumps = f.filter((x) => x.code === 'latency-jump');
        assert.deepEqual(
          jumps.map((x) => x.params.ttl),
          [k],
          f.map((x) => x.message).join('\n'),
        );
      }),
      { numRuns: RUNS },
    );
  });
});

const base: TraceReport = {
  target: '198.18.9.9',
  settings: {
    protocol: 'icmp',
    firstTtl: 1,
    maxTtl: 30,
    interval: 1,
    cycles: 10,
    packetSize: 64,
    tos: 0,
    timeout: 2,
    maxUnknown: 12,
  },
  address: '198.18.9.9',
  family: 4,
  mode: { protocol: 'icmp', socket: 'raw', fallbacks: [] },
  source: 'vm',
  startedAt: new Date(0),
  endedAt: new Date(10_000),
  endReason: 'completed',
  rounds: 10,
  hops: [],
  destinationTtl: null,
};
