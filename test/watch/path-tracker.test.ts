// Route changes against ECMP: the tracker must report a real change once, at
// its first sample, and never report a router that balances load.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PathTracker, pathKey } from '../../src/watch/path-tracker.js';
import type { HopSample } from '../../src/watch/types.js';

/** A sample's hops from one address list per TTL (null: silent). */
const hops = (...perTtl: (string | string[] | null)[]): HopSample[] =>
  perTtl.map((a, i) => {
    const addresses = a === null ? [] : Array.isArray(a) ? a : [a];
    return { ttl: i + 1, address: addresses[0] ?? null, addresses, sent: 3, lost: 0, p50: 1, p90: 1 };
  });

describe('path tracker', () => {
  test('a path held for three samples is a change, dated at its first sample', () => {
    const tr = new PathTracker(3);
    const changes = [];
    for (let t = 0; t < 5; t++) changes.push(tr.observe(t, hops('10.0.0.1', 'A', 'B')));
    for (let t = 5; t < 10; t++) changes.push(tr.observe(t, hops('10.0.0.1', 'C', 'D')));
    const real = changes.filter((c) => c !== null);
    assert.equal(real.length, 1);
    assert.equal(real[0]?.at, 5);
    assert.deepEqual(real[0]?.changedTtls, [2, 3]);
    assert.deepEqual(real[0]?.before['2'], ['A']);
    assert.deepEqual(real[0]?.after['2'], ['C']);
    assert.equal(pathKey(tr.path ?? {}), '1=10.0.0.1 2=C 3=D');
  });

  test('two samples on another path then back: no change, the addresses become branches', () => {
    const tr = new PathTracker(3);
    tr.observe(0, hops('X', 'A'));
    assert.equal(tr.observe(1, hops('X', 'B')), null);
    assert.equal(tr.observe(2, hops('X', 'B')), null);
    assert.equal(tr.observe(3, hops('X', 'A')), null);
    assert.deepEqual(tr.path?.['2'], ['A', 'B']);
    // B is now a branch: B alone again is the same path.
    for (let t = 4; t < 10; t++) assert.equal(tr.observe(t, hops('X', 'B')), null);
  });

  test('a new address answering beside a known one is a branch once the known one answers again', () => {
    const tr = new PathTracker(3);
    tr.observe(0, hops('X', 'A'));
    assert.equal(tr.observe(1, hops('X', ['A', 'B'])), null);
    assert.equal(tr.pending, null);
    assert.deepEqual(tr.path?.['2'], ['A']);
    assert.equal(tr.observe(2, hops('X', 'A')), null);
    assert.deepEqual(tr.path?.['2'], ['A', 'B']);
    for (let t = 3; t < 8; t++) assert.equal(tr.observe(t, hops('X', 'B')), null);
  });

  test('a route that changes inside an interval (both paths in that sample) is one change, dated there', () => {
    const tr = new PathTracker(3);
    for (let t = 0; t < 3; t++) assert.equal(tr.observe(t, hops('X', 'A', 'B')), null);
    assert.equal(tr.observe(3, hops('X', ['A', 'C'], ['B', 'D'])), null);
    const changes = [];
    for (let t = 4; t < 10; t++) changes.push(tr.observe(t, hops('X', 'C', 'D')));
    const real = changes.filter((c) => c !== null);
    assert.equal(real.length, 1);
    assert.equal(real[0]?.at, 3);
    assert.equal(real.length && changes.findIndex((c) => c !== null), 2, 'confirmed by three samples on it alone');
    assert.deepEqual(real[0]?.before, { 1: ['X'], 2: ['A'], 3: ['B'] });
    assert.deepEqual(real[0]?.after, { 1: ['X'], 2: ['C'], 3: ['D'] });
  });

  test('silent hops and silent samples are neither a change nor the end of one', () => {
    const tr = new PathTracker(3);
    tr.observe(0, hops('X', 'A', 'B'));
    assert.equal(tr.observe(1, hops(null, null, null)), null);
    assert.equal(tr.observe(2, hops('X', null, 'B')), null);
    assert.equal(tr.observe(3, hops('X', 'C', null)), null);
    assert.equal(tr.observe(4, hops(null, null, null)), null);
    assert.equal(tr.observe(5, hops('X', 'C', 'D')), null);
    const c = tr.observe(6, hops('X', 'C', 'D'));
    assert.equal(c?.at, 3);
  });

  test('the state survives a restart (JSON round trip)', () => {
    const a = new PathTracker(3);
    a.observe(0, hops('X', 'A'));
    a.observe(1, hops('X', 'C'));
    a.observe(2, hops('X', 'C'));
    const b = new PathTracker(3, JSON.parse(JSON.stringify(a.snapshot())));
    assert.equal(b.observe(3, hops('X', 'C'))?.at, 1);
  });

  // Property: ECMP alternation in any pattern, as long as a known branch shows within every `confirm`
  // samples (per-flow hashing shows several branches within a few samples), then possibly one real switch to
  // disjoint addresses. Branches are in the middle of the path, as load balancing is: a sample where every hop
  // is new is a new path. A branch never seen before, alone for `confirm` samples in a row, cannot be told from a
  // change; docs/watch.md says so.
  test('ECMP alternation is no change; a switch held for `confirm` samples is exactly one, at the switch', () => {
    const branch = fc.array(fc.nat({ max: 2 }), { minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(branch, { minLength: 1, maxLength: 40 }),
        fc.array(branch, { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        (before, after, confirm) => {
          // TTLs 2 and 3 have three load-balanced routers each (each sample sees one of them), 1 and 4 one router.
          const sample = (side: string, pick: number[]): HopSample[] =>
            hops(...pick.map((b, i) => `${side}${i + 1}.${i === 1 || i === 2 ? b : 0}`));
          // Within every `confirm` samples, one takes the first branch everywhere.
          const base = (list: number[][]): number[][] => list.map((p, i) => (i % confirm === 0 ? [0, 0, 0, 0] : p));
          before = base(before);
          after = base(after);
          const tr = new PathTracker(confirm);
          const changes: { at: number }[] = [];
          let t = 0;
          for (const p of before) {
            const c = tr.observe(t++, sample('a', p));
            if (c) changes.push(c);
          }
          const switchAt = t;
          for (const p of after) {
            const c = tr.observe(t++, sample('b', p));
            if (c) changes.push(c);
          }
          const expected = after.length >= confirm && before.length > 0 ? 1 : 0;
          assert.equal(changes.length, expected);
          if (expected) assert.equal(changes[0]?.at, switchAt);
        },
      ),
      { numRuns: 500 },
    );
  });
});
