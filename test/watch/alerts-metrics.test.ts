// The alerts module tells the watch's metrics of each alert it raises
// (vpsline_watch_alerts_total), as `vpsline watch` and `serve --watch` wire them,
// and a restarted watch's counter starts from the alerts stored.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { Alerts, parseAlertSettings } from '../../src/watch/alerts.js';
import { WatchMetrics } from '../../src/watch/metrics.js';
import type { SampleSettings } from '../../src/watch/sampler.js';
import { WatchStore } from '../../src/watch/store.js';
import type { Sample } from '../../src/watch/types.js';
import { scriptedClock, Watcher } from '../../src/watch/watcher.js';
import { scratchDir } from '../support/scratch.js';
import { watchSample } from '../support/watch-sample.js';

const T0 = Date.UTC(2026, 10, 2, 12, 0);
const NO_SAMPLER = { intervalS: 60, rounds: 10, trace: {}, table: {} } as unknown as SampleSettings;

const sample = (i: number, middle: string): Sample => watchSample('x', T0 + i * 60_000, ['198.18.0.1', middle]);

describe('alerts counted in the metrics', () => {
  test('a route-change alert moves vpsline_watch_alerts_total of its target', async (t) => {
    const posts: unknown[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        posts.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    t.after(() => hook.close());
    const { port } = hook.address() as AddressInfo;
    const store = new WatchStore(join(scratchDir('vpsline-alert-metrics-'), 'w.db'));
    const clock = scriptedClock(T0);
    const watcher = new Watcher({ targets: [{ name: 'x', address: '198.18.5.5' }], store, clock, sample: NO_SAMPLER });
    const metrics = new WatchMetrics(watcher, store);
    const settings = parseAlertSettings(
      { webhook: { url: `http://127.0.0.1:${port}/hook` }, rules: [{ when: 'route-change' }] },
      'test',
    );
    const alerts = new Alerts(settings, { store, onAlert: (target) => metrics.alertSent(target) });
    t.after(async () => {
      await alerts.close();
      store.close();
    });
    alerts.watch(watcher);
    const count = async (): Promise<string | undefined> =>
      (await metrics.registry.metrics()).match(/^vpsline_watch_alerts_total\{target="x"\} (\d+)$/m)?.[1];
    for (let i = 0; i < 10; i++) {
      clock.set(T0 + i * 60_000);
      watcher.process({ name: 'x', address: '198.18.5.5' }, sample(i, i < 5 ? '198.18.8.1' : '198.18.9.1'));
      if (i === 4) assert.equal(await count(), '0');
    }
    await alerts.idle();
    assert.equal(await count(), '1');
    assert.equal(posts.length, 1);
    // A restarted watch's counter starts from the alerts the database keeps.
    const restarted = new WatchMetrics(watcher, store, new Registry());
    assert.match(await restarted.registry.metrics(), /^vpsline_watch_alerts_total\{target="x"\} 1$/m);
  });
});
