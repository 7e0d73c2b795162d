// The watch inside `vpsline serve` (src/commands/serve-watch.ts): the config's
// alert rules are read and checked before the server listens, and once the
// watch starts, the alerts and the metrics both follow it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { CommandIO } from '../../src/commands/io.js';
import { serveWatch } from '../../src/commands/serve-watch.js';
import { isVpslineError } from '../../src/errors.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { DEFAULT_WATCH } from '../../src/server/config.js';
import { scratchDir } from '../support/scratch.js';
import { DST, scriptedTransport } from '../support/scripted-transport.js';

const io = { stdout: new PassThrough(), stderr: new PassThrough() } as unknown as CommandIO;

describe('the watch inside serve', () => {
  test('alert rules from the config: checked at setup, following the watch once it runs', async (t) => {
    const dir = scratchDir('vpsline-serve-watch-');
    const alerts = join(dir, 'alerts.json');
    const engine = new ProbeEngine({ transport: scriptedTransport().transport, icmpSocket: 'raw' });
    const settings = (file: string) => ({
      db: join(dir, 'w.db'),
      dbGiven: false,
      config: { ...DEFAULT_WATCH, targets: [{ name: 'lab', address: DST }], alerts: file },
    });
    writeFileSync(
      alerts,
      JSON.stringify({
        webhook: { url: 'http://127.0.0.1:9/' },
        rules: [{ when: 'route-change', targets: ['nobody'] }],
      }),
    );
    assert.throws(
      () => serveWatch(settings(alerts), engine, io),
      (err) => isVpslineError(err) && /nobody/.test(err.message) && !err.message.includes('\n'),
    );
    writeFileSync(
      alerts,
      JSON.stringify({ webhook: { url: 'http://127.0.0.1:9/' }, rules: [{ when: 'route-change' }] }),
    );
    const served = serveWatch(settings(alerts), engine, io);
    assert.ok(served?.watcher);
    t.after(async () => {
      await served.stop();
      served.close();
    });
    const before = served.watcher.listenerCount('event');
    const registry = new Registry();
    served.start(registry);
    // The metrics and the alerts each listen to the watch's events.
    assert.equal(served.watcher.listenerCount('event'), before + 2);
    assert.match(await registry.metrics(), /^vpsline_watch_alerts_total\{target="lab"\} 0$/m);
  });
});
