// The return routes with the real backtrace against the lab's simulated
// paths (lab/scenarios/backtrace.yaml), run in the simulator's namespace: the
// verdicts and hops are what the scenario and the test's carrier file plant,
// and a second request within the period sends no packet at all (the
// simulator's own count). Lab addresses only, never the default target list.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { projectRoot } from '../../lab/checkout.js';
import { labSkipReason } from '../../lab/netns.js';
import { loadNamedScenario, scenarioDir } from '../../lab/sim/scenario.js';
import type { ReturnRoutesSnapshot, ReturnRoutesStatus } from '../../src/server/return-routes.js';
import { scratchDir } from '../support/scratch.js';
import type { DriverAnswer, DriverCommand, DriverSetup } from './return-routes-driver.js';
import { type SimulatedPath, useSimulatedPath } from './suite.js';

const skip = labSkipReason();
const PERIOD_MS = 3_600_000;

/** The carriers the lab's prefixes play (the file backtrace.test.ts uses too). */
const CARRIERS_FILE = join(scenarioDir, 'backtrace-carriers.json');
const CARRIERS = JSON.parse(readFileSync(CARRIERS_FILE, 'utf8')) as {
  carriers: { id: string; asn: number; family: string; prefixes: string[] }[];
};
/** Path 5 of the scenario splits by flow: with one trace per target its line is chance, so it is left out. */
const PLANTED = [
  { name: 'Lab CT 1', carrier: 'ct', city: 'Lab A', address: '198.18.231.1', verdict: 'cn2-gia', landing: null },
  { name: 'Lab CT 2', carrier: 'ct', city: 'Lab B', address: '198.18.232.1', verdict: 'cn2-gt', landing: null },
  { name: 'Lab CM', carrier: 'cm', city: 'Lab C', address: '198.18.233.1', verdict: 'cmi', landing: 'cmnet' },
  { name: 'Lab CU v6', carrier: 'cu', city: 'Lab D', address: '2001:2:0:234::1', verdict: 'cu-9929', landing: null },
];
const TAGS: Record<string, string> = {
  cn2: 'CN2',
  'chinanet-163': '163',
  cmi: 'CMI',
  cmnet: 'CMNET',
  'cu-9929': '9929',
};

function files(): { carriers: string; targets: string } {
  const dir = scratchDir('vpsline-return-routes-');
  const carriers = CARRIERS_FILE;
  const targets = join(dir, 'targets.json');
  writeFileSync(
    targets,
    JSON.stringify(PLANTED.map(({ name, carrier, city, address }) => ({ name, carrier, city, address }))),
  );
  return { carriers, targets };
}

/** The carrier tag the test's carrier file gives an address (prefixes compared as text: /24s and /64s). */
function plantedTag(address: string): string | null {
  for (const c of CARRIERS.carriers)
    for (const p of c.prefixes) {
      const net = p.endsWith('/24') ? p.slice(0, p.lastIndexOf('.')) : p.slice(0, p.indexOf('::'));
      if (address.startsWith(`${net}${p.endsWith('/24') ? '.' : ':'}`)) return TAGS[c.id] ?? null;
    }
  return null;
}

/** ReturnRoutes in the simulator's namespace, driven over IPC; the lab's close kills it with the simulator. */
class Driver {
  private next = 1;
  private readonly waiting = new Map<number, (a: DriverAnswer) => void>();
  private readonly child: ChildProcess;
  readonly ready: Promise<void>;

  constructor(
    private readonly path: SimulatedPath,
    setup: DriverSetup,
  ) {
    const child = path.lab.spawn(
      path.sim.ns,
      process.execPath,
      ['--import', 'tsx', join(projectRoot, 'test/lab/return-routes-driver.ts'), JSON.stringify(setup)],
      { cwd: projectRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the driver exited with ${code}`)));
      child.on('message', (a: DriverAnswer) => {
        if (a.id === 0) return resolve();
        this.waiting.get(a.id)?.(a);
        this.waiting.delete(a.id);
      });
    });
  }

  ask(type: DriverCommand['type'], ms?: number): Promise<DriverAnswer> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send(type === 'advance' ? { id, type, ms } : { id, type });
    });
  }

  async get(): Promise<DriverAnswer & { value: ReturnRoutesSnapshot }> {
    const a = await this.ask('get');
    assert.equal(a.error, undefined);
    return a as DriverAnswer & { value: ReturnRoutesSnapshot };
  }

  async peek(): Promise<DriverAnswer & { value: ReturnRoutesStatus }> {
    return (await this.ask('peek')) as DriverAnswer & { value: ReturnRoutesStatus };
  }

  /** Peek until a run is no longer under way. */
  async settled(): Promise<DriverAnswer & { value: ReturnRoutesStatus }> {
    for (;;) {
      const a = await this.peek();
      if (a.value.status !== 'running') return a;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Probes the simulated path has seen so far. */
  async packets(): Promise<number> {
    return (await this.path.sim.stats()).counters.packets;
  }
}

describe('return routes on the lab backtrace paths', { skip }, () => {
  const path = useSimulatedPath('backtrace');
  const { carriers, targets } = files();
  const setup: DriverSetup = { targets, carriers, periodMs: PERIOD_MS, cycles: 2, interval: 0.1, maxTtl: 8 };
  let driver: Driver;
  let first: ReturnRoutesSnapshot;
  before(async () => {
    driver = new Driver(path, setup);
    await driver.ready;
  });

  test('concurrent requests share one real run; verdicts and hops are what the lab plants', async () => {
    const before = await driver.packets();
    const answers = await Promise.all(Array.from({ length: 5 }, () => driver.get()));
    assert.ok(
      answers.every((a) => a.runs === 1),
      'five requests, one run',
    );
    first = answers[0]!.value;
    assert.ok(answers.every((a) => a.value.measuredAt === first.measuredAt));
    assert.ok((await driver.packets()) > before, 'the run probed the simulated paths');
    assert.equal(first.error, undefined);
    assert.deepEqual(first.protocol, { requested: 'auto', used: ['icmp'] });
    const scenario = loadNamedScenario('backtrace');
    for (const want of PLANTED) {
      const row = first.rows.find((r) => r.address === want.address);
      assert.ok(row, want.name);
      assert.deepEqual(
        { verdict: row.verdict, landing: row.landing, carrier: row.carrier, city: row.city, error: row.error },
        { verdict: want.verdict, landing: want.landing, carrier: want.carrier, city: want.city, error: undefined },
        want.name,
      );
      // The hops that answered are the scenario's routers, then the target unless it is silent.
      const planted = scenario.paths.find((p) => p.target.v4 === want.address || p.target.v6 === want.address);
      assert.ok(planted);
      const silent = planted.destination.icmp === 'silent';
      const routers = planted.hops.map((h) => h.v4[0] ?? h.v6[0]);
      assert.deepEqual(
        row.hops.flatMap((h) => (h.address ? [h.address] : [])),
        silent ? routers : [...routers, want.address],
        want.name,
      );
      assert.equal(row.destinationAnswered, !silent);
      for (const h of row.hops) {
        if (!h.address || h.address === want.address) continue;
        assert.equal(h.carrier, plantedTag(h.address), `${want.name} hop ${h.ttl}`);
        assert.equal(h.lossPercent, 0, `${want.name} hop ${h.ttl}`);
        assert.ok(h.avgMs !== null && h.avgMs >= 0);
      }
      assert.equal(row.hopCount, row.hops.length);
      assert.equal(row.protocol, 'icmp');
    }
    const ct1 = first.rows.find((r) => r.name === 'Lab CT 1')!;
    assert.deepEqual(ct1.names.line, { en: 'CN2 GIA', zh: '电信 CN2 GIA [精品线路]' });
    assert.deepEqual(
      ct1.hops.map((h) => h.asn),
      [null, 4809, 4809, 4809, null],
    );
    assert.ok(ct1.rttMs! >= 5, 'the 5 ms the scenario adds on the second link');
    assert.deepEqual(first.rows.find((r) => r.name === 'Lab CM')!.names.landing, {
      en: 'China Mobile CMNET',
      zh: '移动 CMNET [普通线路]',
    });
  });

  test('a second request within the period sends no packet', async () => {
    const before = await driver.packets();
    const again = await driver.get();
    const peeked = await driver.peek();
    // Long enough for a run started by mistake to have sent its first round.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await driver.packets(), before, 'the simulated paths saw nothing');
    assert.equal(again.runs, 1);
    assert.equal((await driver.ask('state')).sent, again.sent, 'the engine sent nothing');
    assert.equal(again.value.measuredAt, first.measuredAt);
    assert.equal(peeked.value.status, 'ready');
    assert.equal(peeked.value.nextAllowedAt, first.measuredAt + PERIOD_MS);
  });

  test('once the period is over, a request starts one more run and is answered at once', async () => {
    await driver.ask('advance', PERIOD_MS);
    const before = await driver.packets();
    const started = await driver.peek();
    assert.equal(started.value.status, 'running');
    assert.equal(started.value.measuredAt, first.measuredAt, 'the previous result, shown meanwhile');
    const done = await driver.settled();
    assert.equal(done.runs, 2);
    assert.equal(done.value.status, 'ready');
    assert.ok(done.value.measuredAt! > first.measuredAt);
    assert.ok((await driver.packets()) > before);
    assert.deepEqual(
      done.value.rows!.map((r) => r.verdict),
      first.rows.map((r) => r.verdict),
    );
  });

  test('close() stops a run under way: no more packets, done within a probe timeout', async () => {
    // Long runs: 50 rounds 0.2 s apart would take 10 s.
    const long = new Driver(path, { ...setup, cycles: 50, interval: 0.2 });
    await long.ready;
    assert.equal((await long.peek()).value.status, 'running');
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    await long.ask('close');
    const closeMs = performance.now() - t0;
    assert.ok(closeMs < 4000, `close() took ${closeMs.toFixed(0)} ms (probes time out after 2 s)`);
    const after = await long.packets();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(await long.packets(), after, 'nothing sent after close()');
    assert.deepEqual((await long.peek()).value, { status: 'idle' });
    assert.match((await long.ask('get')).error ?? '', /closed/);
  });
});
