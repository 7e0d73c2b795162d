// Alerts end to end on loopback: a real HTTP receiver, a real watch database,
// and a real Watcher whose detectors read the samples fed to it (or, for the
// "never blocks" check, a whole watch run on the scripted transport).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isVpslineError } from '../../src/errors.js';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import {
  type AlertSettings,
  Alerts,
  checkAlertTargets,
  parseAlertSettings,
  readAlertSettings,
} from '../../src/watch/alerts.js';
import { WatchStore } from '../../src/watch/store.js';
import type { HopSample, Sample, WatchTarget } from '../../src/watch/types.js';
import { scriptedClock, Watcher } from '../../src/watch/watcher.js';
import { scratchDir } from '../support/scratch.js';
import { DST, scriptedTransport } from '../support/scripted-transport.js';

const MIN = 60_000;
const START = Date.UTC(2026, 10, 2, 12, 0); // 20:00 in Beijing
const TARGET: WatchTarget = { name: 'CT Shanghai', address: DST };
const dir = scratchDir('vpsline-alerts-');
let files = 0;

/** An HTTP receiver on loopback that answers with `statuses` in turn (then 200) and keeps every body. */
async function receiver(statuses: number[] = []): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ ...JSON.parse(Buffer.concat(chunks).toString()), _auth: req.headers.authorization });
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

/** A loopback port nothing listens on (bound, then closed): connections are refused. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/hook`;
}

function settings(url: string, over: Record<string, unknown> = {}): AlertSettings {
  return parseAlertSettings(
    {
      webhook: { url, headers: { authorization: 'Bearer t0ken' }, timeoutSeconds: 2, retries: 3 },
      quietMinutes: 120,
      rules: [{ name: 'evening loss', when: 'loss', overPercent: 5, forMinutes: 10, targets: ['CT Shanghai'] }],
      ...over,
    },
    'test.json',
  );
}

/** A watcher that is never run: samples are fed to its detectors with process(). */
function fedWatcher(store: WatchStore): Watcher {
  const { transport } = scriptedTransport();
  return new Watcher({
    targets: [TARGET, { name: 'CU Beijing', address: '198.18.5.6' }],
    store,
    sample: {
      intervalS: 60,
      rounds: 10,
      trace: { engine: new ProbeEngine({ transport, icmpSocket: 'raw' }), protocol: 'icmp' },
      table: CarrierTable.load(),
    },
  });
}

function setup(s: AlertSettings, opts: { retryBaseMs?: number; maxQueue?: number; closeTimeoutMs?: number } = {}) {
  const store = new WatchStore(join(dir, `watch-${++files}.db`));
  const watcher = fedWatcher(store);
  const warnings: string[] = [];
  const alerts = new Alerts(s, { store, retryBaseMs: 10, warn: (m) => warnings.push(m), ...opts });
  alerts.watch(watcher);
  after(() => store.close());
  return { store, watcher, alerts, warnings };
}

const hop = (ttl: number, address: string): HopSample => ({
  ttl,
  address,
  addresses: [address],
  sent: 10,
  lost: 0,
  p50: ttl * 10,
  p90: ttl * 10,
});
const PATH_A = [hop(1, '198.18.0.1'), hop(2, '198.18.0.2')];
const PATH_B = [hop(1, '198.18.0.1'), hop(2, '198.18.1.2')];

/** Minute `i` of the evening for `target`; `loss` the destination's share lost. */
function sample(i: number, over: Partial<Sample> = {}, target = TARGET.name): Sample {
  const ms = 30;
  return {
    target,
    t: START + i * MIN,
    rounds: 10,
    sent: 10,
    received: 10 - Math.round((over.loss ?? 0) * 10),
    loss: 0,
    rtt: { min: ms, p10: ms, p25: ms, p50: ms, p75: ms, p90: ms, max: ms },
    hist: {},
    destinationTtl: 3,
    hops: PATH_A,
    verdict: 'chinanet-163',
    confidence: 'high',
    carriers: ['chinanet-163'],
    ...over,
  };
}

const feed = (w: Watcher, samples: Sample[]): void => {
  for (const s of samples) w.process(w.targets.find((t) => t.name === s.target) as WatchTarget, s);
};

describe('loss rule', () => {
  test('fires once after forMinutes of loss, not a sample before; a good sample starts the count again', async () => {
    const hook = await receiver();
    const { watcher, alerts, store } = setup(settings(hook.url));
    // 5 bad minutes, a good one, then 9 bad: no run of 10 minutes yet.
    feed(watcher, [
      ...[0, 1, 2, 3, 4].map((i) => sample(i, { loss: 0.12 })),
      sample(5, { loss: 0.02 }),
      ...[6, 7, 8, 9, 10, 11, 12, 13, 14].map((i) => sample(i, { loss: 0.12 })),
    ]);
    assert.equal(store.alerts().length, 0, 'no alert after 9 minutes');
    feed(watcher, [sample(15, { loss: 0.12 })]);
    assert.equal(store.alerts().length, 1, 'the 10th minute fires');
    feed(watcher, [sample(16, { loss: 0.3 }), sample(17, { loss: 0.12 })]);
    await alerts.idle();
    assert.equal(hook.bodies.length, 1);
    const got = hook.bodies[0] as Record<string, unknown>;
    assert.equal(got.message, 'CT Shanghai: destination loss 12.0 % for 10 minutes (rule: evening loss)');
    assert.equal(got.alert, 'evening loss');
    assert.equal(got.when, 'loss');
    assert.equal(got.target, 'CT Shanghai');
    assert.equal(got.time, new Date(START + 16 * MIN).toISOString());
    assert.equal(got._auth, 'Bearer t0ken', 'the configured header is sent');
    assert.equal((got.sample as { samples: number }).samples, 10);
    const [row] = store.alerts();
    assert.equal(row?.status, 'delivered');
    assert.equal(row?.attempts, 1);
    assert.equal(row?.httpStatus, 200);
  });

  test('targets filter: another target losing as much raises nothing', async () => {
    const hook = await receiver();
    const { watcher, alerts } = setup(settings(hook.url));
    feed(
      watcher,
      Array.from({ length: 30 }, (_, i) => sample(i, { loss: 0.5 }, 'CU Beijing')),
    );
    await alerts.idle();
    assert.equal(hook.bodies.length, 0);
  });

  /** Three hours of loss with a good minute every 17 and two missing samples: flapping all evening. */
  const evening = (day: number): Sample[] =>
    Array.from({ length: 180 }, (_, i) => i)
      .filter((i) => i !== 50 && i !== 51)
      .map((i) => sample(day * 1440 + i, { loss: i % 17 === 16 ? 0 : 0.2 }));

  test('a bad evening is one alert with quietMinutes 120 (and many without a quiet period)', async () => {
    const hook = await receiver();
    const { watcher, alerts, store } = setup(settings(hook.url));
    feed(watcher, evening(0));
    await alerts.idle();
    assert.equal(hook.bodies.length, 1, hook.bodies.map((b) => b.message).join('\n'));
    assert.equal(alerts.suppressed > 5, true, `${alerts.suppressed} held back`);
    // The next evening, after a quiet day, is a new alert.
    feed(watcher, evening(1));
    await alerts.idle();
    assert.equal(hook.bodies.length, 2);
    assert.deepEqual(
      store.alerts().map((a) => a.t),
      [START + 10 * MIN, START + (1440 + 10) * MIN],
    );

    const loud = await receiver();
    const noQuiet = setup(settings(loud.url, { quietMinutes: 0 }));
    feed(noQuiet.watcher, evening(0));
    await noQuiet.alerts.idle();
    assert.ok(loud.bodies.length >= 8, `${loud.bodies.length} alerts without a quiet period`);
  });

  test('sendResolved: one resolved message once the quiet period passed without loss', async () => {
    const hook = await receiver();
    const { watcher, alerts } = setup(settings(hook.url, { sendResolved: true, quietMinutes: 30 }));
    feed(watcher, evening(0));
    // The evening's last bad minute is 179 (ends 180); 29 minutes later it is still quiet time.
    feed(
      watcher,
      Array.from({ length: 29 }, (_, i) => sample(180 + i)),
    );
    await alerts.idle();
    assert.deepEqual(
      hook.bodies.map((b) => b.kind),
      ['alert'],
    );
    feed(watcher, [sample(209), sample(210)]);
    await alerts.idle();
    assert.deepEqual(
      hook.bodies.map((b) => b.kind),
      ['alert', 'resolved'],
    );
    assert.match(String(hook.bodies[1]?.message), /^CT Shanghai: destination loss under 5 % since .*15:00Z/);
  });

  test('a restarted watch keeps the quiet period of the alert it sent', async () => {
    const hook = await receiver();
    const first = setup(settings(hook.url));
    feed(first.watcher, evening(0).slice(0, 20));
    await first.alerts.close();
    const restarted = fedWatcher(first.store);
    const again = new Alerts(settings(hook.url), { store: first.store, retryBaseMs: 10 });
    again.watch(restarted);
    feed(restarted, evening(0).slice(20));
    await again.idle();
    assert.equal(hook.bodies.length, 1);
  });
});

describe('latency rule', () => {
  test('median RTT over the baseline by the percentage for forMinutes', async () => {
    const hook = await receiver();
    const rule = { name: 'slow', when: 'latency', overBaselinePercent: 50, forMinutes: 5 };
    const { watcher, alerts } = setup(settings(hook.url, { rules: [rule] }));
    const rtt = (ms: number): Sample['rtt'] => ({ min: ms, p10: ms, p25: ms, p50: ms, p75: ms, p90: ms, max: ms });
    feed(watcher, [
      ...Array.from({ length: 60 }, (_, i) => sample(i, { rtt: rtt(40) })),
      // 44 ms is +10 %: not enough; then 4 minutes at 70 ms: too short.
      ...Array.from({ length: 10 }, (_, i) => sample(60 + i, { rtt: rtt(44) })),
      ...Array.from({ length: 4 }, (_, i) => sample(70 + i, { rtt: rtt(70) })),
      sample(74, { rtt: rtt(40) }),
    ]);
    await alerts.idle();
    assert.equal(hook.bodies.length, 0);
    feed(
      watcher,
      Array.from({ length: 5 }, (_, i) => sample(75 + i, { rtt: rtt(70) })),
    );
    await alerts.idle();
    assert.equal(hook.bodies.length, 1);
    assert.equal(
      hook.bodies[0]?.message,
      'CT Shanghai: median RTT 70.0 ms for 5 minutes, 75 % over its baseline of 40.0 ms (rule: slow)',
    );
  });
});

describe('change rules', () => {
  test('a route change and a verdict change seen by the watcher: one alert each; flapping back is quiet', async () => {
    const hook = await receiver();
    const rules = [{ when: 'route-change' }, { when: 'verdict-change', name: 'line' }];
    const { watcher, alerts } = setup(settings(hook.url, { rules }));
    const cn2 = { verdict: 'cn2-gia' as const, carriers: ['cn2'] };
    feed(watcher, [
      ...Array.from({ length: 5 }, (_, i) => sample(i)),
      ...Array.from({ length: 5 }, (_, i) => sample(5 + i, { hops: PATH_B, ...cn2 })),
      // Back again within the quiet period: the watcher sees two more changes, nobody is woken twice.
      ...Array.from({ length: 5 }, (_, i) => sample(10 + i)),
    ]);
    await alerts.idle();
    assert.deepEqual(hook.bodies.map((b) => b.when).sort(), ['route-change', 'verdict-change']);
    const route = hook.bodies.find((b) => b.when === 'route-change') as Record<string, unknown>;
    assert.equal(route.message, 'CT Shanghai: route changed at TTL 2: chinanet-163 -> cn2 (rule: route-change)');
    assert.equal((route.event as { type: string }).type, 'route-change');
    const line = hook.bodies.find((b) => b.when === 'verdict-change') as Record<string, unknown>;
    assert.match(String(line.message), /^CT Shanghai: line changed from .+ to .+ \(rule: line\)$/);
    assert.equal(alerts.suppressed, 2);
  });
});

describe('delivery', () => {
  test('500, 500, then 200: three attempts, recorded as delivered', async () => {
    const hook = await receiver([500, 500]);
    const { watcher, alerts, store } = setup(settings(hook.url));
    feed(
      watcher,
      Array.from({ length: 10 }, (_, i) => sample(i, { loss: 0.5 })),
    );
    await alerts.idle();
    assert.equal(hook.bodies.length, 3);
    const [row] = store.alerts();
    assert.deepEqual([row?.status, row?.attempts, row?.httpStatus], ['delivered', 3, 200]);
  });

  test('a 400 is not tried again: the receiver will not change its mind', async () => {
    const hook = await receiver([400]);
    const { watcher, alerts, store, warnings } = setup(settings(hook.url));
    feed(
      watcher,
      Array.from({ length: 10 }, (_, i) => sample(i, { loss: 0.5 })),
    );
    await alerts.idle();
    assert.equal(hook.bodies.length, 1);
    assert.deepEqual([store.alerts()[0]?.status, store.alerts()[0]?.attempts], ['failed', 1]);
    assert.match(warnings[0] ?? '', /not delivered after 1 attempt\(s\) \(HTTP 400 Bad Request\)/);
  });

  test('a receiver that is down: 1 + retries attempts, then recorded failed with a warning', async () => {
    const url = await deadUrl();
    const { watcher, alerts, store, warnings } = setup(settings(url, { webhook: { url, retries: 2 } }));
    feed(
      watcher,
      Array.from({ length: 10 }, (_, i) => sample(i, { loss: 0.5 })),
    );
    await alerts.idle();
    const [row] = store.alerts();
    assert.deepEqual([row?.status, row?.attempts, row?.httpStatus], ['failed', 3, null]);
    assert.match(row?.error ?? '', /ECONNREFUSED/);
    assert.equal(warnings.length, 1);
  });

  test('a receiver that takes the connection and never answers: the attempt ends at timeoutSeconds', async () => {
    const silent = createNetServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    after(() => silent.close());
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook`;
    const { watcher, alerts, store } = setup(settings(url, { webhook: { url, retries: 0, timeoutSeconds: 1 } }));
    feed(
      watcher,
      Array.from({ length: 10 }, (_, i) => sample(i, { loss: 0.5 })),
    );
    await alerts.idle();
    const [row] = store.alerts();
    assert.deepEqual([row?.status, row?.attempts, row?.error], ['failed', 1, 'no answer within 1 s']);
  });

  test('a full queue drops its oldest alert with a warning', async () => {
    const url = await deadUrl();
    const s = settings(url, {
      webhook: { url, retries: 0 },
      quietMinutes: 0,
      rules: [{ when: 'loss', overPercent: 5, forMinutes: 0 }],
    });
    const { watcher, alerts, store, warnings } = setup(s, { maxQueue: 2 });
    // Every other minute lossy: ten separate alerts at once; one goes out, two wait, seven are dropped.
    feed(
      watcher,
      Array.from({ length: 20 }, (_, i) => sample(i, { loss: i % 2 ? 0 : 0.5 })),
    );
    await alerts.idle();
    const statuses = store.alerts().map((a) => a.status);
    assert.equal(statuses.length, 10);
    assert.equal(statuses.filter((x) => x === 'dropped').length, 7);
    assert.equal(statuses.filter((x) => x === 'failed').length, 3);
    assert.equal(warnings.filter((w) => w.includes('queue full')).length, 7);
  });

  test('the watch is not held up by a receiver that is down; close() gives up after its bound', async () => {
    const url = await deadUrl();
    const clock = scriptedClock(START);
    // The destination (TTL 3) loses half its probes: a lossy sample every interval.
    const { transport } = scriptedTransport({ lose: (n, ttl) => ttl >= 3 && n % 2 === 0 });
    const store = new WatchStore(join(dir, `watch-${++files}.db`));
    after(() => store.close());
    const watcher = new Watcher({
      targets: [TARGET],
      store,
      sample: {
        intervalS: 60,
        rounds: 4,
        spacingS: 0.01,
        trace: { engine: new ProbeEngine({ transport, icmpSocket: 'raw' }), protocol: 'icmp', timeout: 0.1 },
        table: CarrierTable.load(),
      },
      clock,
      samples: 8,
    });
    const s = settings(url, {
      webhook: { url, retries: 10 },
      rules: [{ when: 'loss', overPercent: 5, forMinutes: 2 }],
    });
    // The real pause between attempts (1 s, 2 s, 4 s ...): ten retries take minutes.
    const alerts = new Alerts(s, { store, warn: () => {}, closeTimeoutMs: 50 });
    alerts.watch(watcher);
    await watcher.run();
    assert.equal(store.samples(TARGET.name).length, 8, 'every sample taken and stored');
    const [row, more] = store.alerts();
    assert.equal(more, undefined);
    assert.equal(row?.status, 'pending', 'the watch ended while the alert was still being retried');
    await alerts.close();
    const [closed] = store.alerts();
    assert.equal(closed?.status, 'dropped');
    assert.ok((closed?.attempts ?? 0) >= 1 && (closed?.attempts ?? 0) <= 10, `${closed?.attempts} attempts`);
    assert.match(closed?.error ?? '', /ECONNREFUSED/);
  });

  test('a payload too large loses its details, not its message', async () => {
    const hook = await receiver();
    const { watcher, alerts } = setup(settings(hook.url, { rules: [{ when: 'route-change' }] }));
    const wide = (prefix: string) =>
      Array.from({ length: 30 }, (_, t) => ({
        ...hop(t + 1, `198.18.${prefix}.${t}`),
        addresses: Array.from({ length: 60 }, (_, k) => `2001:2:${prefix}:ffff:ffff:ffff:${t}:${k}`),
      }));
    feed(watcher, [
      ...Array.from({ length: 3 }, (_, i) => sample(i, { hops: wide('1') })),
      ...Array.from({ length: 3 }, (_, i) => sample(3 + i, { hops: wide('2') })),
    ]);
    await alerts.idle();
    assert.equal(hook.bodies.length, 1);
    assert.equal(hook.bodies[0]?.truncated, true);
    assert.equal(hook.bodies[0]?.event, undefined);
    assert.match(String(hook.bodies[0]?.message), /route changed/);
  });
});

describe('settings file', () => {
  const good = {
    webhook: { url: 'http://127.0.0.1:9/hook' },
    rules: [{ when: 'loss', overPercent: 5, forMinutes: 10 }],
  };
  const cases: [string, unknown, RegExp][] = [
    ['not an object', [], /must be object/],
    ['no webhook', { rules: good.rules }, /the file: missing webhook/],
    ['ftp', { ...good, webhook: { url: 'ftp://127.0.0.1/x' } }, /webhook.url must be an http or https URL/],
    ['not a url', { ...good, webhook: { url: 'hook' } }, /webhook.url "hook" is not a URL/],
    ['retries', { ...good, webhook: { ...good.webhook, retries: 11 } }, /webhook.retries must be <= 10/],
    ['timeout', { ...good, webhook: { ...good.webhook, timeoutSeconds: 0 } }, /webhook.timeoutSeconds must be >= 1/],
    ['quiet', { ...good, quietMinutes: 10_081 }, /quietMinutes must be <= 10080/],
    ['typo', { ...good, quietMinute: 5 }, /the file: unknown field "quietMinute"/],
    ['header', { ...good, webhook: { ...good.webhook, headers: { 'x-a': 'b\r\nc: d' } } }, /headers.x-a must be one/],
    ['no rules', { ...good, rules: [] }, /rules must not have fewer than 1 items/],
    [
      '101 rules',
      { ...good, rules: Array.from({ length: 101 }, () => ({ when: 'route-change' })) },
      /rules must not have more than 100 items/,
    ],
    ['kind', { ...good, rules: [{ when: 'jitter' }] }, /rules\[0\].when must be one of loss, latency, verdict-change/],
    ['missing', { ...good, rules: [{ when: 'loss', forMinutes: 3 }] }, /rules\[0\]: missing overPercent/],
    ['percent', { ...good, rules: [{ when: 'loss', overPercent: 150 }] }, /rules\[0\].overPercent must be <= 100/],
    ['field', { ...good, rules: [{ when: 'route-change', forMinutes: 3 }] }, /rules\[0\]: unknown field "forMinutes"/],
    ['twice', { ...good, rules: [{ when: 'route-change' }, { when: 'route-change' }] }, /two rules are named/],
  ];
  for (const [what, doc, message] of cases)
    test(`${what}: one clear line, exit code 2`, () => {
      const file = join(dir, `settings-${++files}.json`);
      writeFileSync(file, JSON.stringify(doc));
      assert.throws(
        () => readAlertSettings(file),
        (err: unknown) => {
          assert.ok(isVpslineError(err));
          assert.equal(err.exitCode, 2);
          assert.ok(err.message.startsWith(`--alerts ${file}: `), err.message);
          assert.match(err.message, message);
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
    });

  test('a missing file, a file that is not JSON', () => {
    assert.throws(() => readAlertSettings(join(dir, 'nope.json')), /nope.json: no such file\.$/);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"webhook": ');
    assert.throws(() => readAlertSettings(file), /broken.json: not JSON \(/);
  });

  test('defaults, and a rule naming a target the watch lacks', () => {
    const s = parseAlertSettings(good, 'a.json');
    assert.deepEqual(
      [s.quietMinutes, s.webhook.retries, s.webhook.timeoutSeconds, s.sendResolved, s.rules[0]?.name],
      [120, 3, 5, false, 'loss over 5 % for 10 min'],
    );
    const named = parseAlertSettings(
      { ...good, rules: [{ when: 'route-change', targets: ['CT Shanhgai'] }] },
      'a.json',
    );
    assert.throws(
      () => checkAlertTargets(named, ['CT Shanghai'], 'a.json'),
      /rule "route-change" names target "CT Shanhgai", which this watch does not have \(it has: CT Shanghai\)/,
    );
  });
});

// Runs the compiled CLI: `npm test` builds dist/ first (or run `npm run build`).
describe('vpsline watch --test-alert', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  // Asynchronous: the receiver answers from this process.
  const cli = (file: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['bin/vpsline.js', 'watch', '--alerts', file, '--test-alert'],
        { cwd: root, timeout: 30_000 },
        (_err, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
      );
    });
  const write = (doc: unknown): string => {
    const file = join(dir, `cli-${++files}.json`);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  };

  test('reaches the receiver and exits 0; a 500 exits 1; a bad file exits 2', async () => {
    const hook = await receiver([200, 500]);
    const rules = [{ when: 'route-change' }];
    const ok = await cli(write({ webhook: { url: hook.url, headers: { authorization: 'Bearer x' } }, rules }));
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, `${hook.url} answered HTTP 200\n`);
    assert.equal(hook.bodies[0]?.kind, 'test');
    assert.equal(hook.bodies[0]?._auth, 'Bearer x');
    assert.match(String(hook.bodies[0]?.message), /a test alert; the webhook works/);

    const failed = await cli(write({ webhook: { url: hook.url, retries: 5 }, rules }));
    assert.equal(failed.status, 1);
    assert.equal(failed.stdout, `${hook.url} answered HTTP 500\n`);
    assert.equal(failed.stderr, 'vpsline: the webhook did not accept the test alert.\n');
    assert.equal(hook.bodies.length, 2, 'one attempt only: a test shows the first answer');

    const down = await cli(write({ webhook: { url: await deadUrl() }, rules }));
    assert.equal(down.status, 1);
    assert.match(down.stdout, /: ECONNREFUSED\n$/);

    const bad = await cli(write({ webhook: { url: hook.url, retries: 99 }, rules }));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^vpsline: --alerts .*: webhook.retries must be <= 10\.\n$/);
  });
});
