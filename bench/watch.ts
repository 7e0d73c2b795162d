// `vpsline watch` figures: how many targets one core watches at a 1-second
// interval, and how fast the database grows. The watch runs as the real CLI
// inside a lab namespace against a simulated 15-hop path (198.18.0.0/15 only).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Lab, labSkipReason } from '../lab/netns.js';
import { parseScenario } from '../lab/sim/scenario.js';
import { Simulator } from '../lab/sim/simulator.js';
import { histogramOf } from '../src/watch/histogram.js';
import { WatchStore } from '../src/watch/store.js';

const exec = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const HOPS = 14;
const TARGET = '198.18.210.1';
const SCENARIO = [
  'name: watch-bench',
  'paths:',
  `  - target: { v4: ${TARGET} }`,
  '    hops:',
  ...Array.from({ length: HOPS }, (_, i) => `      - { v4: 198.18.110.${i + 1}${i === 3 ? ', delay: 20ms' : ''} }`),
  '    destination: { icmp: echo }',
].join('\n');

/** CPU seconds (user + system) a `vpsline watch` run used, from /proc at its end, and its wall time. */
async function watchRun(
  ns: string,
  dir: string,
  targets: number,
  samples: number,
  extra: string[],
): Promise<{ cpuS: number; wallS: number; db: string }> {
  const file = join(dir, `targets-${targets}-${samples}.json`);
  const db = join(dir, `watch-${targets}-${samples}.db`);
  writeFileSync(file, JSON.stringify(Array.from({ length: targets }, (_, i) => ({ name: `t${i}`, address: TARGET }))));
  const t0 = performance.now();
  // `bash -c 'cmd; times'` would count the shell; time(1)-like figures from getrusage of the child instead.
  const r = await exec(
    'ip',
    [
      'netns',
      'exec',
      ns,
      '/usr/bin/time',
      '-f',
      '%U %S',
      process.execPath,
      `${root}bin/vpsline.js`,
      'watch',
      '--targets',
      file,
      '--db',
      db,
      '--samples',
      String(samples),
      '--user',
      'root',
      ...extra,
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const wallS = (performance.now() - t0) / 1000;
  const [user, sys] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { cpuS: (user ?? Number.NaN) + (sys ?? Number.NaN), wallS, db };
}

/** Bytes an hour rollup takes: ten days of minute samples with ten replies each, rolled up, read from dbstat. */
function hourRowBytes(dir: string): number {
  const file = join(dir, 'hours.db');
  const store = new WatchStore(file, { detailDays: 1000, hourlyDays: 1000 });
  store.addTarget({ name: 'x', address: TARGET });
  const t0 = Date.UTC(2026, 0, 1);
  const minutes = 10 * 24 * 60;
  for (let i = 0; i < minutes; i++) {
    // 150-190 ms with an occasional 100 ms more: a spread of buckets like a long path's.
    const rtts = Array.from(
      { length: 10 },
      (_, k) => 150 + ((i * 7 + k * 13) % 40) + (k === 9 && i % 20 === 0 ? 100 : 0),
    );
    store.record({
      sample: {
        target: 'x',
        t: t0 + i * 60_000,
        rounds: 10,
        sent: 10,
        received: 10,
        loss: 0,
        rtt: null,
        hist: histogramOf(rtts),
        destinationTtl: 15,
        hops: [],
        verdict: 'cn2-gia',
        confidence: 'high',
        carriers: ['cn2'],
      },
      path: null,
      newEvents: [],
      updatedEvents: [],
      state: {},
    });
  }
  store.maintain(t0 + minutes * 60_000);
  store.checkpoint();
  const rows = store.hours('x').length;
  store.close();
  const db = new Database(file, { readonly: true });
  const bytes = (db.prepare("SELECT sum(pgsize) AS b FROM dbstat WHERE name = 'watch_hours'").get() as { b: number }).b;
  db.close();
  return bytes / rows;
}

export async function watchBench(row: (name: string, value: string) => void): Promise<void> {
  const why = labSkipReason();
  if (why) {
    row('vpsline watch', `skipped: ${why}`);
    return;
  }
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'vpsline-watch-bench-'));
  try {
    const sim = await Simulator.start(lab, parseScenario(SCENARIO, 'watch-bench'));
    const ns = sim.ns.name;
    // Targets per core at 1 s: CPU of a long run minus a short one (start-up), per target-second.
    const targets = 50;
    const oneSecond = ['--interval', '1', '--rounds', '1'];
    const short = await watchRun(ns, dir, targets, 2, oneSecond);
    const long = await watchRun(ns, dir, targets, 22, oneSecond);
    const cpuPerTargetSecond = (long.cpuS - short.cpuS) / (targets * 20);
    row(
      `watch: ${targets} targets, 1 s interval, 1 round, ${HOPS + 1}-hop path: CPU per target`,
      `${(cpuPerTargetSecond * 1000).toFixed(2)} ms/s`,
    );
    row('watch: targets one core keeps at a 1 s interval', `${Math.floor(1 / cpuPerTargetSecond)}`);
    const longStore = new WatchStore(long.db);
    const stored = longStore.targets().reduce((n, t) => n + longStore.samples(t.name).length, 0);
    longStore.close();
    row(`  samples stored of ${targets * 22} asked for, wall time`, `${stored}, ${long.wallS.toFixed(1)} s`);

    // Growth: bytes per stored sample of this path (10 rounds, the default), times the samples of a day.
    const growth = await watchRun(ns, dir, 4, 30, ['--interval', '1', '--rounds', '10']);
    const store = new WatchStore(growth.db);
    store.checkpoint();
    const empty = new WatchStore(join(dir, 'empty.db'));
    empty.checkpoint();
    const perSample = (store.bytes() - empty.bytes()) / (4 * 30);
    row(`watch: database bytes per sample (${HOPS + 1} hops, 10 rounds)`, `${perSample.toFixed(0)} B`);
    for (const interval of [60, 10, 1]) {
      const day = (perSample * 86_400) / interval;
      row(`watch: database growth per target per day at --interval ${interval}`, `${(day / 1e6).toFixed(2)} MB`);
    }
    store.close();
    empty.close();
    row('watch: database bytes per hour rollup (10 days of 60 s samples)', `${hourRowBytes(dir).toFixed(0)} B`);
  } finally {
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
