// The return routes' rationing, with a fake tracer and a clock the test moves:
// one run at a time shared by every caller, a result (or a failure) kept for
// the period, and rows in the page's shape. No packets: the tracer is fake.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CarrierTable } from '../../src/lookup/carriers.js';
import type { ProbeEngine } from '../../src/probe/engine.js';
import type { BacktraceResult, BacktraceTarget } from '../../src/route/backtrace.js';
import type { TraceReport } from '../../src/trace/trace.js';
import { createLookingGlass } from '../../src/server/app.js';
import {
  ReturnRoutes,
  returnRoutesFromConfig,
  type ReturnRoutesOptions,
  type ReturnRoutesRun,
  type ReturnRoutesSnapshot,
} from '../../src/server/return-routes.js';
import { scratchDir } from '../support/scratch.js';

const PERIOD = 60_000;

const dir = scratchDir('vpsline-return-routes-');
const carriersFile = join(dir, 'carriers.json');
writeFileSync(
  carriersFile,
  JSON.stringify({
    carriers: [
      { id: 'cn2', asn: 4809, family: 'ct', prefixes: ['198.18.131.0/24'] },
      { id: 'chinanet-163', asn: 4134, family: 'ct', prefixes: ['198.18.143.0/24'] },
    ],
  }),
);
const table = CarrierTable.load(carriersFile);
// Never used: the tracer is injected.
const engine = {} as ProbeEngine;

const TARGETS: BacktraceTarget[] = [
  { name: 'Lab CT', carrier: 'ct', city: 'Shanghai', address: '198.18.231.1' },
  { name: 'Lab CM', carrier: 'cm', address: '198.18.233.1' },
];

/** A finished trace: hop 1 unknown, hop 2 silent, hop 3 CN2, then the target. */
function report(target: string): TraceReport {
  const hop = (ttl: number, address: string | null, mean: number) => ({
    ttl,
    address,
    responders: [],
    sent: 2,
    received: address ? 2 : 0,
    lost: address ? 0 : 2,
    inFlight: 0,
    lossPercent: address ? 0 : 100,
    stats: { mean: address ? mean : 0 },
    untimed: 0,
  });
  return {
    target,
    address: target,
    mode: { protocol: 'icmp', socket: 'raw', fallbacks: [] },
    destinationTtl: 4,
    hops: [hop(1, '198.18.130.1', 0.2), hop(2, null, 0), hop(3, '198.18.131.1', 5.1234), hop(4, target, 5.5)],
  } as unknown as TraceReport;
}

function result(target: BacktraceTarget): BacktraceResult {
  return {
    target,
    verdict: 'cn2-gia',
    landing: null,
    segments: [{ carrier: 'cn2', asn: 4809, ttls: [3] }],
    evidence: [{ ttl: 3, address: '198.18.131.1', carrier: 'cn2', asn: 4809, by: 'prefix' }],
    confidence: 'medium',
    notes: [],
    noteCodes: [],
    destinationAnswered: true,
    rttMs: 5.5,
    lossPercent: 0,
    report: report(target.address),
  };
}

interface Pending {
  resolve: (r: BacktraceResult[]) => void;
  reject: (e: Error) => void;
  signal: AbortSignal;
}

/** A tracer whose runs the test ends by hand, and a clock it moves. */
function fixture(extra: Partial<ReturnRoutesOptions> = {}) {
  const clock = { t: 1_000_000 };
  const runs: Pending[] = [];
  const run: ReturnRoutesRun = (_targets, signal) =>
    new Promise((resolve, reject) => {
      runs.push({ resolve, reject, signal });
    });
  const routes = new ReturnRoutes({
    engine,
    table,
    targets: TARGETS,
    periodMs: PERIOD,
    cycles: 2,
    interval: 0.1,
    now: () => clock.t,
    run,
    ...extra,
  });
  /** End run `i` with a row per target. */
  const finish = (i: number): void => runs[i]!.resolve(TARGETS.map(result));
  return { clock, runs, routes, finish };
}

/** Let settled promises run their callbacks. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** get() that the cache must answer: fails, rather than waits forever on the fake, if it starts a run. */
async function cached(routes: ReturnRoutes, runs: Pending[]): Promise<ReturnRoutesSnapshot> {
  const before = runs.length;
  const got = routes.get();
  await tick();
  assert.equal(runs.length, before, 'get() started a run within the period');
  return got;
}

describe('ReturnRoutes', () => {
  it('shares one run between concurrent callers', async () => {
    const { runs, routes, finish } = fixture();
    const waiting = Array.from({ length: 5 }, () => routes.get());
    await tick();
    assert.equal(runs.length, 1, 'five callers, one run');
    finish(0);
    const got = await Promise.all(waiting);
    assert.ok(
      got.every((s) => s === got[0]),
      'every caller gets the same snapshot',
    );
    assert.equal(routes.runs, 1);
  });

  it('serves the result for the period, then runs once more', async () => {
    const { clock, runs, routes, finish } = fixture();
    const first = routes.get();
    finish(0);
    const a = await first;
    assert.equal(a.measuredAt, clock.t);
    clock.t += PERIOD - 1;
    assert.equal(await cached(routes, runs), a, 'within the period: the cached result');
    assert.equal(routes.peek().status, 'ready');
    assert.equal(runs.length, 1, 'no second run within the period');
    clock.t += 1;
    const again = Array.from({ length: 3 }, () => routes.get());
    await tick();
    assert.equal(runs.length, 2, 'the period over: exactly one more run');
    finish(1);
    const [b] = await Promise.all(again);
    assert.notEqual(b, a);
    assert.equal(b!.measuredAt, clock.t);
  });

  it('keeps a failed run for the period too', async () => {
    const { clock, runs, routes, finish } = fixture();
    const first = routes.get();
    await tick();
    runs[0]!.reject(new Error('no route to the targets'));
    const failed = await first;
    assert.equal(failed.error, 'no route to the targets');
    assert.deepEqual(failed.rows, []);
    clock.t += PERIOD / 2;
    assert.equal(await cached(routes, runs), failed);
    const peeked = routes.peek();
    assert.deepEqual(
      { status: peeked.status, error: peeked.error, next: peeked.nextAllowedAt },
      { status: 'ready', error: 'no route to the targets', next: failed.measuredAt + PERIOD },
    );
    assert.equal(runs.length, 1, 'a failing list is not run again within the period');
    clock.t += PERIOD / 2;
    const retry = routes.get();
    await tick();
    assert.equal(runs.length, 2);
    finish(1);
    assert.equal((await retry).error, undefined);
  });

  it('a tracer that throws at once is a failed run as well', async () => {
    const { routes } = fixture({
      run: () => {
        throw new Error('boom');
      },
    });
    assert.equal((await routes.get()).error, 'boom');
    assert.equal(routes.runs, 1);
  });

  it('peek answers at once: running, then ready; a stale result is shown while the next run goes', async () => {
    const { clock, runs, routes, finish } = fixture();
    assert.deepEqual(routes.peek(), { status: 'running' });
    assert.deepEqual(routes.peek(), { status: 'running' });
    assert.equal(runs.length, 1, 'peeking again does not start another run');
    finish(0);
    await tick();
    const ready = routes.peek();
    assert.equal(ready.status, 'ready');
    assert.equal(ready.measuredAt, clock.t);
    assert.equal(ready.nextAllowedAt, clock.t + PERIOD);
    assert.equal(ready.rows?.length, 2);
    clock.t += PERIOD;
    const stale = routes.peek();
    assert.equal(stale.status, 'running');
    assert.equal(stale.rows, ready.rows, 'the previous rows, to show meanwhile');
    assert.equal(runs.length, 2);
    assert.equal(routes.peek().status, 'running');
    assert.equal(runs.length, 2);
  });

  it('rows in the page shape: carrier group, both languages, hops with tags, AS and times', async () => {
    const { clock, routes, finish } = fixture();
    const got = routes.get();
    finish(0);
    const s = await got;
    assert.deepEqual(s.protocol, { requested: 'auto', used: ['icmp'] });
    assert.equal(s.startedAt, clock.t);
    const [ct, cm] = s.rows;
    assert.deepEqual(
      { ...ct!, hops: undefined },
      {
        name: 'Lab CT',
        carrier: 'ct',
        carrierName: { en: 'China Telecom', zh: '电信' },
        city: 'Shanghai',
        address: '198.18.231.1',
        verdict: 'cn2-gia',
        confidence: 'medium',
        names: {
          line: { en: 'CN2 GIA', zh: '电信 CN2 GIA [精品线路]' },
          landing: null,
          notes: { en: [], zh: [] },
        },
        landing: null,
        destinationAnswered: true,
        rttMs: 5.5,
        lossPercent: 0,
        protocol: 'icmp',
        hopCount: 4,
        hops: undefined,
      },
    );
    assert.deepEqual(ct!.hops, [
      { ttl: 1, address: '198.18.130.1', carrier: null, asn: null, lossPercent: 0, avgMs: 0.2 },
      { ttl: 2, address: null, carrier: null, asn: null, lossPercent: 100, avgMs: null },
      { ttl: 3, address: '198.18.131.1', carrier: 'CN2', asn: 4809, lossPercent: 0, avgMs: 5.123 },
      { ttl: 4, address: '198.18.231.1', carrier: null, asn: null, lossPercent: 0, avgMs: 5.5 },
    ]);
    assert.equal(cm!.city, null);
    assert.deepEqual(cm!.carrierName, { en: 'China Mobile', zh: '移动' });
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'plain JSON, nothing lost on the wire');
  });

  it('close() aborts the run, keeps nothing, and refuses later calls', async () => {
    const { runs, routes } = fixture();
    const got = routes.get();
    await tick();
    const { signal } = runs[0]!;
    assert.equal(signal.aborted, false);
    // The fake tracer ends when aborted, as backtrace() does.
    signal.addEventListener('abort', () => runs[0]!.resolve([]));
    await routes.close();
    assert.equal(signal.aborted, true);
    assert.deepEqual((await got).rows, [], 'the caller waiting gets what was measured');
    assert.deepEqual(routes.peek(), { status: 'idle' });
    await assert.rejects(routes.get(), /closed/);
    assert.equal(routes.runs, 1, 'nothing started after close()');
  });

  it('close() does not wait forever for a tracer that ignores the abort', async () => {
    const { routes } = fixture();
    void routes.get();
    const t0 = performance.now();
    await routes.close(50);
    assert.ok(performance.now() - t0 < 1000);
  });
});

describe('GET /api/v1/return-routes', () => {
  it('answers running with Retry-After at once, then ready, from one run', async () => {
    const { runs, routes, finish } = fixture();
    const lg = await createLookingGlass({ db: join(dir, 'lg.db'), engine, dns: false, returnRoutes: routes });
    const app = lg.app;
    try {
      const first = await app.inject({ method: 'GET', url: '/api/v1/return-routes' });
      assert.equal(first.statusCode, 200);
      assert.equal(first.headers['retry-after'], '3');
      assert.equal(first.headers['cache-control'], 'no-store');
      assert.deepEqual(first.json(), { status: 'running' });
      finish(0);
      await tick();
      const second = await app.inject({ method: 'GET', url: '/api/v1/return-routes' });
      const body = second.json() as { status: string; rows: { verdict: string }[] };
      assert.equal(body.status, 'ready');
      assert.deepEqual(
        body.rows.map((r) => r.verdict),
        ['cn2-gia', 'cn2-gia'],
      );
      assert.equal(second.headers['retry-after'], undefined);
      assert.equal(runs.length, 1);
    } finally {
      await lg.close();
    }
  });
});

describe('returnRoutesFromConfig', () => {
  const targets = join(dir, 'targets.txt');
  writeFileSync(targets, '198.18.231.1 Lab CT\n198.18.233.1 Lab CM\n');

  it('is off when disabled', () => {
    assert.equal(returnRoutesFromConfig({ enabled: false, periodMinutes: 60, targets }, { engine, table }), undefined);
  });

  it('reads the targets file and rations runs by periodMinutes', async () => {
    const clock = { t: 0 };
    const seen: BacktraceTarget[][] = [];
    const routes = returnRoutesFromConfig(
      { enabled: true, periodMinutes: 10, targets },
      {
        engine,
        table,
        now: () => clock.t,
        run: async (list) => {
          seen.push(list);
          return [];
        },
      },
    );
    assert.ok(routes);
    await routes.get();
    clock.t = 10 * 60_000 - 1;
    await routes.get();
    assert.equal(seen.length, 1);
    clock.t = 10 * 60_000;
    await routes.get();
    assert.equal(seen.length, 2);
    assert.deepEqual(
      seen[0]!.map((t) => t.address),
      ['198.18.231.1', '198.18.233.1'],
    );
  });
});
