// The deadline heap pops in deadline order whatever the pushes, pops and
// rebuilds; the clock watch reports a wall-clock step and ignores slewing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CLOCK_STEP_NS, ClockWatch, DeadlineHeap } from '../../src/probe/deadlines.js';

describe('DeadlineHeap', () => {
  it('pops the earliest deadline first, across pushes, pops and rebuilds', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: -1e6, max: 1e6 }) }),
      fc.constant({ pop: true }),
      fc.record({ shiftAll: fc.integer({ min: -1e5, max: 1e5 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = new DeadlineHeap<{ deadlineNs: number }>();
        const model: { deadlineNs: number }[] = [];
        for (const o of ops) {
          if ('push' in o) {
            const e = { deadlineNs: o.push };
            heap.push(e);
            model.push(e);
          } else if ('pop' in o) {
            model.sort((a, b) => a.deadlineNs - b.deadlineNs);
            assert.equal(heap.pop()?.deadlineNs, model.shift()?.deadlineNs);
          } else {
            // A clock step moves every deadline; the heap is rebuilt.
            for (const e of model) e.deadlineNs += o.shiftAll;
            heap.rebuild();
          }
          const min = Math.min(...model.map((e) => e.deadlineNs));
          assert.equal(heap.peek()?.deadlineNs, model.length ? min : undefined);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('ClockWatch', () => {
  it('reports a step of the wall clock, not a slew', () => {
    let offset = 1e18;
    const watch = new ClockWatch(() => offset);
    offset += CLOCK_STEP_NS / 4; // NTP slewing
    assert.equal(watch.step(), 0);
    offset -= 3_600e9; // someone set the clock back an hour
    assert.equal(watch.step(), -3_600e9);
    assert.equal(watch.step(), 0);
  });
});
