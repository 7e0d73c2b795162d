// `vpsline watch`, `events` and `profile` from the command line: mistakes get
// one line and exit 2 before any socket is opened; events and profile read a
// database written here (no probes: the samples are made by hand).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { WatchStore } from '../../src/watch/store.js';
import type { Sample } from '../../src/watch/types.js';
import { scriptedClock, Watcher } from '../../src/watch/watcher.js';
import { scratchDir } from '../support/scratch.js';
import { scriptedTransport } from '../support/scripted-transport.js';
import { watchHop } from '../support/watch-sample.js';

const bin = new URL('../../bin/vpsline.js', import.meta.url).pathname;

async function vpsline(args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

/** Samples by hand through the real detectors: 6 on one path, then 6 on another with another line. */
function fill(db: string): void {
  const store = new WatchStore(db);
  const { transport } = scriptedTransport();
  const t0 = Date.UTC(2026, 10, 2, 12, 0); // 20:00 in Beijing
  const clock = scriptedClock(t0);
  const watcher = new Watcher({
    clock,
    targets: [{ name: 'lab-ct', address: '198.18.5.5', carrier: 'ct' }],
    store,
    sample: {
      intervalS: 60,
      rounds: 10,
      trace: { engine: new ProbeEngine({ transport, icmpSocket: 'raw' }) },
      table: CarrierTable.load(),
    },
  });
  for (let i = 0; i < 12; i++) {
    clock.set(t0 + i * 60_000);
    const second = i >= 6;
    const s: Sample = {
      target: 'lab-ct',
      t: t0 + i * 60_000,
      rounds: 10,
      sent: 10,
      received: 10,
      loss: 0,
      rtt: { min: 150, p10: 150, p25: 151, p50: 152, p75: 153, p90: 155, max: 160 },
      hist: {},
      destinationTtl: 4,
      hops: [watchHop(1, '198.18.0.1'), watchHop(2, second ? '198.18.9.1' : '198.18.8.1'), watchHop(3, '198.18.7.1')],
      verdict: second ? 'chinanet-163' : 'cn2-gia',
      confidence: 'high',
      carriers: [second ? 'chinanet-163' : 'cn2'],
    };
    watcher.process({ name: 'lab-ct', address: '198.18.5.5', carrier: 'ct' }, s);
  }
  store.close();
}

describe('vpsline watch, events and profile on the command line', () => {
  test('bad options: one line, exit 2, no database made', async () => {
    const dir = scratchDir('vpsline-watch-cli-');
    const db = join(dir, 'never.db');
    const bad = join(dir, 'targets.json');
    writeFileSync(bad, '[{"name": "x"}]');
    const dup = join(dir, 'dup.json');
    writeFileSync(dup, '[{"name": "x", "address": "198.18.0.1"}, {"name": "x", "address": "198.18.0.2"}]');
    for (const [args, says] of [
      [['watch', '--interval', '0', '--db', db, '198.18.0.1'], /--interval must be from 1 to 86400/],
      [['watch', '--rounds', '200', '--interval', '1', '--db', db, '198.18.0.1'], /at most 100 rounds per second/],
      [['watch', '--targets', bad, '--db', db], /target 1 needs an IP address/],
      [['watch', '--targets', dup, '--db', db], /two watch targets are named "x"/],
      [['watch', '-u', '-T', '--db', db, '198.18.0.1'], /cannot be used together/],
      [['events', '--db', db], /no watch database at/],
      [['profile', '--db', db], /no watch database at/],
      [['events', '--db', db, '--since', 'yesterday-ish'], /--since is a date/],
    ] as const) {
      const r = await vpsline([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, says);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.doesNotMatch(r.err, /\n\s+at /);
    }
    assert.equal((await vpsline(['events', '--db', db])).code, 2); // still no database
  });

  test('events as JSON lines and as text; the profile by Beijing hour; a bad zone is one line', async () => {
    const db = join(scratchDir('vpsline-watch-cli-'), 'w.db');
    fill(db);
    const json = await vpsline(['events', '--db', db, '--json']);
    assert.equal(json.code, 0, json.err);
    const events = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => [e.type, e.time, e.target]),
      [
        ['route-change', '2026-11-02T12:06:00.000Z', 'lab-ct'],
        ['verdict-change', '2026-11-02T12:06:00.000Z', 'lab-ct'],
      ],
    );
    assert.equal(events[1].before, 'cn2-gia');
    assert.equal(events[1].after, 'chinanet-163');
    assert.deepEqual(events[0].before.carriers, ['cn2']);
    assert.deepEqual(events[0].evidence.changedTtls, [2]);

    const text = await vpsline(['events', '--db', db, '--tz', 'Asia/Shanghai', '--type', 'verdict-change']);
    assert.equal(text.out.trim(), '2026-11-02 20:06:00  lab-ct  line changed: CN2 GIA -> ChinaNet 163');

    // --since: events going on at or after it (a from-query once failed with an SQL syntax error).
    const since = await vpsline(['events', '--db', db, '--json', '--since', '2026-11-02T12:06:00Z']);
    assert.equal(since.out.trim().split('\n').length, 2, since.err);
    const later = await vpsline(['events', '--db', db, '--json', '--since', '2026-11-02T12:07:00Z']);
    assert.equal(later.code, 0, later.err);
    assert.equal(later.out, '');

    const profile = await vpsline(['profile', '--db', db, '--days', '3650', '--json']);
    const [p] = JSON.parse(profile.out);
    assert.equal(p.timeZone, 'Asia/Shanghai');
    assert.equal(p.hours[20].samples, 12);
    assert.deepEqual(p.hours[20].verdicts, { 'cn2-gia': 6, 'chinanet-163': 6 });
    const table = await vpsline(['profile', '--db', db, '--days', '3650']);
    assert.match(table.out, /^20:00 +12 +0\.0 +0 +.* (CN2 GIA|ChinaNet 163) 50 %/m);

    const zone = await vpsline(['profile', '--db', db, '--tz', 'Mars/Olympus']);
    assert.equal(zone.code, 2);
    assert.match(zone.err, /^vpsline: unknown time zone Mars\/Olympus/);
    const who = await vpsline(['profile', '--db', db, '--target', 'nobody']);
    assert.match(who.err, /no target "nobody" .* \(it has: lab-ct\)/);
  });
});
