// A watch restarted on the same database carries on: a route change counted
// across the restart is still one change, dated before it, and an episode
// open at the restart is closed, not opened again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { WatchStore } from '../../src/watch/store.js';
import type { Sample, WatchTarget } from '../../src/watch/types.js';
import { scriptedClock, Watcher } from '../../src/watch/watcher.js';
import { scratchDir } from '../support/scratch.js';
import { scriptedTransport } from '../support/scripted-transport.js';
import { watchSample } from '../support/watch-sample.js';

const TARGET: WatchTarget = { name: 'x', address: '198.18.5.5' };
const T0 = Date.UTC(2026, 10, 2, 12, 0);

const sample = (i: number, middle: string, loss: number): Sample =>
  watchSample('x', T0 + i * 60_000, ['198.18.0.1', middle, '198.18.7.1'], { loss });

function watcher(file: string): { w: Watcher; store: WatchStore; clock: ReturnType<typeof scriptedClock> } {
  const store = new WatchStore(file);
  const clock = scriptedClock(T0);
  const { transport } = scriptedTransport();
  const w = new Watcher({
    targets: [TARGET],
    store,
    clock,
    sample: {
      intervalS: 60,
      rounds: 10,
      trace: { engine: new ProbeEngine({ transport, icmpSocket: 'raw' }) },
      table: CarrierTable.load(),
    },
  });
  return { w, store, clock };
}

describe('a restarted watch', () => {
  test('keeps its path candidate and its open episode', () => {
    const file = join(scratchDir('vpsline-restart-'), 'w.db');
    const first = watcher(file);
    const feed = (x: typeof first, i: number, middle: string, loss: number): void => {
      x.clock.set(T0 + i * 60_000);
      x.w.process(TARGET, sample(i, middle, loss));
    };
    for (let i = 0; i < 5; i++) feed(first, i, '198.18.8.1', 0);
    // Two samples on another path, both lossy: a candidate (2 of 3) and an open loss episode.
    feed(first, 5, '198.18.9.1', 0.3);
    feed(first, 6, '198.18.9.1', 0.3);
    const opened = first.store.events({ type: 'loss' });
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.end, null);
    first.store.close(); // the process ends here

    const second = watcher(file);
    feed(second, 7, '198.18.9.1', 0);
    feed(second, 8, '198.18.9.1', 0);
    const changes = second.store.events({ type: 'route-change' });
    assert.equal(changes.length, 1, 'the third sample on the new path confirms the change');
    assert.equal(changes[0]?.start, T0 + 5 * 60_000);
    const loss = second.store.events({ type: 'loss' });
    assert.equal(loss.length, 1);
    assert.equal(loss[0]?.id, opened[0]?.id);
    assert.equal(loss[0]?.end, T0 + 7 * 60_000);
    second.store.close();
  });
});
