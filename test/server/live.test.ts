// What a viewer of a running trace sees, against what is stored when it ends.
// The engine runs on a scripted transport (no kernel): the destination answers
// from TTL 3, but the first probe at TTL 3 is lost, so the first round finds
// the destination at TTL 4 and a later round at TTL 3. mtr's view (and the
// stored result) then ends at TTL 3; the live view must drop TTL 4 again
// rather than keep a row the stored result lacks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';
import { type LiveEvent, type LiveHop, TraceRunner } from '../../src/server/runner.js';
import { Store } from '../../src/server/store.js';
import { scratchDir } from '../support/scratch.js';
import { DST, router, scriptedTransport } from '../support/scripted-transport.js';

/** Store a trace's row and start it, as the traces route does. */
function start(store: Store, runner: TraceRunner, id: string, count: number): void {
  store.insertTrace({
    id,
    createdAt: Date.now(),
    client: '198.18.0.2',
    targetInput: DST,
    target: DST,
    protocol: 'icmp',
    count,
    status: 'running',
  });
  assert.equal(runner.admit('198.18.0.2', DST), undefined);
  runner.start(id, '198.18.0.2', DST, 'icmp', count);
}

describe('live view of a running trace', () => {
  test('ends exactly as the stored result, without the hop seen past the destination', async () => {
    let firstAtThree = true;
    const { transport } = scriptedTransport({
      lose: (_n, ttl) => {
        if (ttl !== 3 || !firstAtThree) return false;
        firstAtThree = false;
        return true;
      },
    });
    const engine = new ProbeEngine({ transport, icmpSocket: 'raw' });
    const store = new Store(join(scratchDir('vpsline-live-'), 'lg.db'));
    const limits = { ...DEFAULT_LIMITS, interval: 0.05 };
    // Every change is sent (no throttle), so the view that once showed TTL 4 is seen.
    const runner = new TraceRunner(store, engine, CarrierTable.load(), limits, undefined, {}, { progressEveryMs: 0 });
    const id = 'live-test-trace-0000000';
    start(store, runner, id, 4);
    const seen: Extract<LiveEvent, { type: 'progress' }>[] = [];
    const ended = new Promise<Extract<LiveEvent, { type: 'end' }>>((resolve) => {
      runner.subscribe(id, (e) => (e.type === 'progress' ? seen.push(e) : resolve(e)));
    });
    const end = await ended;
    assert.equal(end.status, 'done');
    const stored = JSON.parse(store.getTrace(id)?.result ?? '{}') as { hops: LiveHop[] };
    const ttls = (hops: LiveHop[]): number[] => hops.map((h) => h.ttl);

    assert.deepEqual(
      stored.hops.map((h) => h.address),
      [router(1), router(2), DST],
    );
    // The path was once seen to end at TTL 4: that is why this test can fail.
    assert.ok(
      seen.some((e) => ttls(e.hops).includes(4)),
      `some live view showed TTL 4: ${seen.map((e) => ttls(e.hops).join(',')).join(' | ')}`,
    );
    const last = seen.at(-1);
    assert.ok(last, 'progress was sent');
    assert.deepEqual(last.hops, stored.hops, 'the last live view is the stored result, figure for figure');
    assert.deepEqual(
      seen.map((e) => e.round),
      [...seen.map((e) => e.round)].sort((a, b) => a - b),
      'rounds only go up',
    );
    assert.equal(last.round, 4);
    assert.equal(last.rounds, 4);
    store.close();
    engine.close();
  });

  test('progress is sent at most 5 times a second, and the last one still equals the stored hops', async () => {
    const { transport } = scriptedTransport();
    const engine = new ProbeEngine({ transport, icmpSocket: 'raw' });
    const store = new Store(join(scratchDir('vpsline-live-'), 'lg.db'));
    const runner = new TraceRunner(store, engine, CarrierTable.load(), { ...DEFAULT_LIMITS, interval: 0.1 });
    const id = 'live-test-trace-0000001';
    const started = Date.now();
    start(store, runner, id, 10);
    const seen: { at: number; hops: LiveHop[] }[] = [];
    await new Promise<void>((resolve) =>
      runner.subscribe(id, (e) => (e.type === 'progress' ? seen.push({ at: Date.now(), hops: e.hops }) : resolve())),
    );
    const seconds = (Date.now() - started) / 1000;
    // One at once, then at most one per 200 ms, and the final one at the end.
    assert.ok(seen.length <= Math.ceil(seconds * 5) + 2, `${seen.length} events in ${seconds.toFixed(2)} s`);
    for (let i = 1; i < seen.length - 1; i++)
      assert.ok((seen[i]?.at ?? 0) - (seen[i - 1]?.at ?? 0) >= 190, `events ${i - 1} and ${i} too close`);
    const stored = JSON.parse(store.getTrace(id)?.result ?? '{}') as { hops: LiveHop[] };
    assert.deepEqual(seen.at(-1)?.hops, stored.hops);
    store.close();
    engine.close();
  });
});
