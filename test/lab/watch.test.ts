// `vpsline watch` on real packets: the CLI inside a lab namespace, tracing a
// simulated path that the test changes while it runs (Simulator.setScenario).
// A route change must give one route-change and one verdict-change event at
// the switch; per-flow load balancing must give none; a watch killed with
// SIGKILL must keep its history up to the interval it was measuring.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { projectRoot } from '../../lab/checkout.js';
import { Lab, labSkipReason } from '../../lab/netns.js';
import { loadNamedScenario, scenarioDir } from '../../lab/sim/scenario.js';
import { Simulator } from '../../lab/sim/simulator.js';
import { WatchStore } from '../../src/watch/store.js';
import type { Sample } from '../../src/watch/types.js';
import { scratchDir } from '../support/scratch.js';

const skip = labSkipReason();
const bin = join(projectRoot, 'bin', 'vpsline.js');
const INTERVAL_MS = 1000;
const TARGET = 'Lab CT';
/** The hops of watch-route-a.yaml (163) and watch-route-b.yaml (CN2) after the first, TTL 2 to 4. */
const PATH_A = ['198.18.143.21', '198.18.144.21', '198.18.144.22'];
const PATH_B = ['198.18.131.21', '198.18.132.21', '198.18.133.21'];
/** watch-ecmp.yaml's balanced hop (TTL 3) and its two routers. */
const ECMP_TTL = 3;
const BRANCHES = ['198.18.144.31', '198.18.144.32'];

interface EventLine {
  time: string;
  target: string;
  type: string;
  start: number;
  end: number | null;
  before: unknown;
  after: unknown;
  evidence: unknown;
}

type StoredSample = Sample & { pathId: number | null };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('vpsline watch on a simulated path', { skip }, () => {
  const lab = new Lab();
  let sim: Simulator;
  const dir = scratchDir('vpsline-watch-lab-');
  const targets = join(dir, 'targets.json');
  // backtrace-carriers.json: 198.18.143/24 and 144/24 are 163, 198.18.131-133/24 are CN2.
  const carriers = join(scenarioDir, 'backtrace-carriers.json');
  writeFileSync(targets, JSON.stringify([{ name: TARGET, carrier: 'ct', address: '198.18.236.1' }]));

  before(async () => {
    sim = await Simulator.start(lab, loadNamedScenario('watch-route-a'));
  });
  after(() => lab.close());

  /** A new database in its own folder. */
  let dbs = 0;
  const freshDb = (): string => {
    const folder = join(dir, `db${++dbs}`);
    mkdirSync(folder);
    return join(folder, 'w.db');
  };

  /**
   * `vpsline watch` in the lab namespace. As root without capabilities (`--user root`): the test reads the
   * database while it runs; privileges.test.ts checks the switch to nobody.
   */
  function watch(db: string, extra: string[] = []): { child: ChildProcess; output: () => string } {
    const child = lab.spawn(
      sim.ns,
      process.execPath,
      [bin, 'watch', '--targets', targets, '--carriers', carriers, '--interval', '1', '--db', db, '--user', 'root']
        .concat(extra.includes('--rounds') ? [] : ['--rounds', '3'])
        .concat(extra),
      { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout!.on('data', (d: Buffer) => (text += d));
    child.stderr!.on('data', (d: Buffer) => (text += d));
    return { child, output: () => text };
  }

  const exited = (child: ChildProcess): Promise<{ code: number | null; signal: string | null }> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
      : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  /** SIGTERM, and the watch's clean exit. */
  async function stop(w: { child: ChildProcess; output: () => string }): Promise<void> {
    w.child.kill('SIGTERM');
    assert.deepEqual(await exited(w.child), { code: 0, signal: null }, w.output());
  }

  /** Stored samples starting at or after `from`, read while the watch writes (WAL lets a reader in). */
  function countSamples(db: string, from = 0): number {
    let conn: Database.Database | undefined;
    try {
      conn = new Database(db, { readonly: true, fileMustExist: true });
      return (conn.prepare('SELECT count(*) AS n FROM watch_samples WHERE t >= ?').get(from) as { n: number }).n;
    } catch {
      return 0; // not created yet
    } finally {
      conn?.close();
    }
  }

  async function waitForSamples(
    db: string,
    n: number,
    w: { child: ChildProcess; output: () => string },
    from = 0,
  ): Promise<void> {
    const deadline = Date.now() + 30_000 + n * INTERVAL_MS * 2;
    while (countSamples(db, from) < n) {
      assert.equal(w.child.exitCode, null, `the watch ended early:\n${w.output()}`);
      assert.ok(Date.now() < deadline, `fewer than ${n} samples after ${from}:\n${w.output()}`);
      await sleep(100);
    }
  }

  async function events(db: string): Promise<EventLine[]> {
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'events', '--db', db, '--json'], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as EventLine);
  }

  function storedSamples(db: string): StoredSample[] {
    const store = new WatchStore(db);
    try {
      return store.samples(TARGET);
    } finally {
      store.close();
    }
  }

  /** The addresses that answered at TTL 2 to 4 in a sample. */
  const middle = (s: Sample): string[] =>
    s.hops.filter((h) => h.ttl >= 2 && h.ttl <= 4).flatMap((h) => [...h.addresses].sort());

  test('a route change mid-watch: one route-change and one verdict-change event, at the switch', async (t) => {
    await sim.setScenario(loadNamedScenario('watch-route-a'));
    const db = freshDb();
    const w = watch(db);
    await waitForSamples(db, 9, w);
    // The switch lands inside an interval, as a real one would: between its second and third round (at
    // +0, +333 and +667 ms), so that sample sees both paths. Samples start on a 1 s grid from the first.
    const grid = storedSamples(db)[0]!.t;
    const aim = grid + Math.ceil((Date.now() - grid) / INTERVAL_MS) * INTERVAL_MS + 500;
    await sleep(aim - Date.now());
    const switchedAt = Date.now();
    await sim.setScenario(loadNamedScenario('watch-route-b'));
    await waitForSamples(db, 8, w, switchedAt);
    await stop(w);

    const list = await events(db);
    const routeChanges = list.filter((e) => e.type === 'route-change');
    const verdictChanges = list.filter((e) => e.type === 'verdict-change');
    assert.equal(routeChanges.length, 1, JSON.stringify(list, null, 1));
    assert.equal(verdictChanges.length, 1, JSON.stringify(list, null, 1));
    assert.equal(list.length, 2, `no loss or latency episode: ${JSON.stringify(list, null, 1)}`);

    const samples = storedSamples(db);
    // The interval that held the switch, and the first one wholly on path B.
    const straddling = samples.find((s) => s.t < switchedAt && s.t + INTERVAL_MS > switchedAt);
    const firstOnB = samples.find((s) => s.t >= switchedAt);
    assert.ok(firstOnB, 'samples after the switch');
    const change = routeChanges[0]!;
    const verdict = verdictChanges[0]!;
    t.diagnostic(
      `switch at +${switchedAt % 100_000} ms; straddling sample ${straddling ? straddling.t % 100_000 : '-'} ` +
        `(${straddling ? middle(straddling).join(' ') : ''}); first on B ${firstOnB.t % 100_000}; ` +
        `route-change at ${change.start % 100_000} (${change.start - switchedAt} ms after the switch), ` +
        `verdict-change at ${verdict.start % 100_000} (${verdict.start - switchedAt} ms)`,
    );
    assert.ok(straddling, 'a sample across the switch');
    const mixed = middle(straddling);
    assert.ok(
      PATH_A.some((a) => mixed.includes(a)) && PATH_B.some((a) => mixed.includes(a)),
      `the sample across the switch saw both paths: ${mixed.join(' ')}`,
    );
    // Both dated at the interval the switch fell in: the first sample that saw path B.
    for (const e of [change, verdict]) {
      assert.equal(e.start, straddling.t, `${e.type} at ${e.start}, samples ${straddling.t} / ${firstOnB.t}`);
      assert.ok(switchedAt - e.start < INTERVAL_MS, `${e.type} ${switchedAt - e.start} ms before the switch`);
      assert.equal(e.time, new Date(e.start).toISOString());
      assert.equal(e.target, TARGET);
    }
    assert.deepEqual(change.before, {
      hops: { 1: ['198.18.180.1'], 2: [PATH_A[0]], 3: [PATH_A[1]], 4: [PATH_A[2]] },
      carriers: ['chinanet-163'],
    });
    assert.deepEqual(change.after, {
      hops: { 1: ['198.18.180.1'], 2: [PATH_B[0]], 3: [PATH_B[1]], 4: [PATH_B[2]] },
      carriers: ['cn2'],
    });
    assert.deepEqual((change.evidence as { changedTtls: number[] }).changedTtls, [2, 3, 4]);
    assert.equal(verdict.before, 'chinanet-163');
    assert.equal(verdict.after, 'cn2-gia');

    // In the database: the samples before the switch on one path, those from the change on another.
    const beforeSwitch = samples.filter((s) => s.t + INTERVAL_MS <= switchedAt);
    const fromChange = samples.filter((s) => s.t >= change.start);
    assert.ok(beforeSwitch.length >= 8 && fromChange.length >= 8, `${beforeSwitch.length} / ${fromChange.length}`);
    const pathA = new Set(beforeSwitch.map((s) => s.pathId));
    const pathB = new Set(fromChange.map((s) => s.pathId));
    assert.equal(pathA.size, 1, `path ids before: ${[...pathA]}`);
    assert.equal(pathB.size, 1, `path ids after: ${[...pathB]}`);
    assert.notEqual([...pathA][0], [...pathB][0]);
    for (const s of beforeSwitch) {
      assert.deepEqual(middle(s), PATH_A, `sample ${s.t}`);
      assert.equal(s.verdict, 'chinanet-163');
    }
    for (const s of samples.filter((x) => x.t >= switchedAt)) {
      assert.deepEqual(middle(s), PATH_B, `sample ${s.t}`);
      assert.equal(s.verdict, 'cn2-gia');
    }
    // The CLI printed both events as they happened.
    assert.match(w.output(), /Lab CT {2}route changed at TTL 2, 3, 4: 163 -> CN2/);
    assert.match(w.output(), /Lab CT {2}line changed: .* -> /);
  });

  /**
   * A watch of `samples` samples with UDP probes on the balanced path; its samples and events. With `joinAfter`,
   * the balanced hop is its first router alone for that many samples, then the second one joins it.
   */
  async function ecmpWatch(
    rounds: number,
    samples: number,
    joinAfter = 0,
  ): Promise<{ samples: StoredSample[]; events: EventLine[] }> {
    const balanced = loadNamedScenario('watch-ecmp');
    const single = structuredClone(balanced);
    single.paths[0]!.hops[ECMP_TTL - 1]!.v4 = [BRANCHES[0]!];
    await sim.setScenario(joinAfter ? single : balanced);
    const db = freshDb();
    const w = watch(db, ['-u', '--rounds', String(rounds), '--samples', String(samples)]);
    if (joinAfter) {
      await waitForSamples(db, joinAfter, w);
      await sim.setScenario(balanced);
    }
    assert.deepEqual(await exited(w.child), { code: 0, signal: null }, w.output());
    return { samples: storedSamples(db), events: await events(db) };
  }

  /** Per sample, the branches that answered at the balanced hop. */
  const branchesOf = (list: StoredSample[]): string[][] =>
    list.map((s) => [...(s.hops.find((h) => h.ttl === ECMP_TTL)?.addresses ?? [])].sort());

  test('a router joining a hop in per-flow balancing (UDP, 3 rounds a sample): both seen, no event', async (t) => {
    const run = await ecmpWatch(3, 20, 5);
    assert.equal(run.samples.length, 20);
    const seen = branchesOf(run.samples);
    const both = seen.filter((b) => b.length === 2).length;
    t.diagnostic(`branches per sample: ${seen.map((b) => b.map((a) => a.slice(-2)).join('+')).join(' ')}`);
    assert.deepEqual([...new Set(seen.flat())].sort(), BRANCHES, 'both routers answered across the samples');
    assert.ok(both > 0, 'both branches within one sample');
    assert.deepEqual(run.events, [], 'no route-change or verdict-change event');
    assert.ok(run.samples.every((s) => s.verdict === 'chinanet-163'));
  });

  test('per-flow load balancing (UDP, 1 round a sample): single samples alternate, no event', async (t) => {
    const run = await ecmpWatch(1, 15);
    const seen = branchesOf(run.samples);
    t.diagnostic(`branch per sample: ${seen.map((b) => b.map((a) => a.slice(-2)).join('+')).join(' ')}`);
    // Each branch alone in some sample: the samples alternate.
    for (const b of BRANCHES)
      assert.ok(
        seen.some((x) => x.length === 1 && x[0] === b),
        `${b} alone in a sample: ${JSON.stringify(seen)}`,
      );
    assert.deepEqual(
      run.events.filter((e) => e.type === 'verdict-change'),
      [],
    );
    // docs/watch.md: a branch never seen before that alone answers --confirm (3) samples in a row looks like
    // a route change. Whether this run had that run of samples is read from what it stored.
    let blindSpot = false;
    const known = new Set<string>();
    let alone = 0;
    for (const b of seen) {
      if (!b.length) continue; // silent: says nothing
      if (!known.size || b.some((a) => known.has(a))) {
        if (known.size && alone) break; // the known branch is back before the third sample
        for (const a of b) known.add(a);
        if (known.size === BRANCHES.length) break;
        continue;
      }
      if (++alone >= 3) {
        blindSpot = true;
        break;
      }
    }
    if (blindSpot) {
      t.diagnostic('the new branch alone answered 3 samples in a row first: a route change by the documented rule');
      assert.ok(run.events.filter((e) => e.type === 'route-change').length <= 1);
    } else assert.deepEqual(run.events, [], 'no route-change event');
  });

  test('kill -9: the history up to the interval being measured survives, and a restart goes on', async (t) => {
    await sim.setScenario(loadNamedScenario('watch-route-a'));
    const db = freshDb();
    const startedAt = Date.now();
    const w = watch(db);
    await waitForSamples(db, 1, w);
    await sleep(6000 - (Date.now() - startedAt));
    // `ip netns exec` and the privilege switch both exec in place: this pid is the node process watching.
    const pid = w.child.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes(bin) && cmdline.includes('watch'), cmdline.join(' '));
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^CapEff:\s+0+$/m, 'the image after the switch');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    assert.deepEqual(await exited(w.child), { code: null, signal: 'SIGKILL' });
    const elapsedS = (killedAt - startedAt) / 1000;

    const conn = new Database(db);
    assert.equal(conn.pragma('integrity_check', { simple: true }), 'ok');
    conn.close();
    const kept = storedSamples(db);
    const first = kept[0]!;
    const last = kept.at(-1)!;
    // Every interval that had ended before the kill (its trace done ~0.7 s into it) is stored: only the one
    // being measured is lost. The process's start (node twice: before and after the switch) is not sampled.
    const ended = Math.floor((killedAt - first.t) / INTERVAL_MS);
    t.diagnostic(
      `ran ${elapsedS.toFixed(2)} s (first sample ${first.t - startedAt} ms after the start), ` +
        `${kept.length} samples kept of ${ended} intervals ended; the newest started ${killedAt - last.t} ms ` +
        'before the kill',
    );
    assert.ok(kept.length >= ended, `${kept.length} samples kept, ${ended} intervals ended before the kill`);
    assert.ok(kept.length >= Math.floor(elapsedS) - 3, `${kept.length} samples in ${elapsedS} s`);
    kept.forEach((s, i) => {
      if (i) assert.equal(s.t - kept[i - 1]!.t, INTERVAL_MS, 'one sample per interval, none missing');
      assert.equal(s.rounds, 3);
      assert.ok(s.sent >= 1 && s.received >= 1 && s.rtt !== null && s.loss !== null, JSON.stringify(s));
      assert.equal(s.destinationTtl, 5);
      assert.deepEqual(middle(s), PATH_A);
      assert.equal(s.verdict, 'chinanet-163');
      assert.deepEqual(s.carriers, ['chinanet-163']);
      assert.equal(s.pathId, kept[0]!.pathId);
      assert.notEqual(s.pathId, null);
    });

    // Started again on the same database, it takes up where it was.
    const again = watch(db, ['--samples', '4']);
    assert.deepEqual(await exited(again.child), { code: 0, signal: null }, again.output());
    const all = storedSamples(db);
    const resumed = all.filter((s) => s.t > last.t);
    assert.equal(resumed.length, 4);
    assert.equal(all.length, kept.length + 4);
    for (const s of resumed) assert.equal(s.pathId, last.pathId, 'the same path after the restart');
    assert.deepEqual(await events(db), [], 'no event from the restart');
  });
});
