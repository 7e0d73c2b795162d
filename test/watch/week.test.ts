// A simulated week through the real engine: the transport is scripted (no
// kernel), the watch's clock jumps from interval to interval, and the
// destination loses 30 % of probes from 20:00 to 23:00 Beijing time. The
// profile must show that evening, the database and the memory must stay
// within their bounds, and retention must keep hours where samples are gone.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { profile } from '../../src/watch/profile.js';
import { WatchStore } from '../../src/watch/store.js';
import { scriptedClock, Watcher } from '../../src/watch/watcher.js';
import { scratchDir } from '../support/scratch.js';
import { DST, scriptedTransport } from '../support/scripted-transport.js';

const INTERVAL_S = 1800;
const DAYS = 7;
const START = Date.UTC(2026, 10, 2, 0, 0); // a Monday, 08:00 in Beijing
/** Beijing hours with planted loss. */
const EVENING = [20, 21, 22];
const beijingHour = (t: number): number => (new Date(t).getUTCHours() + 8) % 24;

describe('a simulated week', () => {
  test('evening loss in the profile, bounded database and memory, hours kept past the detail', async () => {
    const clock = scriptedClock(START);
    // Seeded, so a run can be repeated: xorshift.
    let seed = 42;
    const random = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    const { transport } = scriptedTransport({
      lose: (_n, ttl) => ttl >= 3 && EVENING.includes(beijingHour(clock.now())) && random() < 0.3,
    });
    const engine = new ProbeEngine({ transport, icmpSocket: 'raw' });
    const file = join(scratchDir('vpsline-week-'), 'watch.db');
    // Three days of samples, the rest as hours: the profile must use both.
    const store = new WatchStore(file, { detailDays: 3, hourlyDays: 400 });
    const watcher = new Watcher({
      targets: [{ name: 'lab', address: DST }],
      store,
      sample: {
        intervalS: INTERVAL_S,
        rounds: 5,
        spacingS: 0.01,
        trace: { engine, protocol: 'icmp', timeout: 0.2, graceTime: 0.05 },
        table: CarrierTable.load(),
      },
      clock,
      samples: (DAYS * 86_400) / INTERVAL_S,
    });
    const heapBefore = process.memoryUsage().heapUsed;
    await watcher.run();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    store.maintain(clock.now() + INTERVAL_S * 1000);
    store.checkpoint();

    // Retention: samples only for the last three days; hours for all seven.
    const samples = store.samples('lab');
    const hours = store.hours('lab');
    assert.ok(samples.length > 0 && samples.length <= (3 * 86_400) / INTERVAL_S + 1, `${samples.length} samples`);
    assert.ok((samples[0]?.t ?? 0) >= clock.now() - 3 * 86_400_000 - INTERVAL_S * 1000);
    assert.equal(hours.length, DAYS * 24);

    // The profile over the week: loss in the planted evening hours only, every hour counted.
    const p = profile(store, 'lab', START, clock.now() + 1, 'Asia/Shanghai');
    const total = p.hours.reduce((n, h) => n + h.samples, 0);
    assert.equal(total, (DAYS * 86_400) / INTERVAL_S);
    for (const h of p.hours) {
      if (EVENING.includes(h.hour)) assert.ok((h.loss ?? 0) > 0.1, `hour ${h.hour}: loss ${h.loss}`);
      else assert.equal(h.loss, 0, `hour ${h.hour} has loss ${h.loss}`);
    }
    // In UTC the same evening is 12:00 to 15:00.
    const utc = profile(store, 'lab', START, clock.now() + 1, 'UTC');
    assert.ok((utc.hours[12]?.loss ?? 0) > 0.1 && utc.hours[20]?.loss === 0);

    // One loss episode per evening, from its first lossy sample (a sample of 5 probes may lose none at 30 %)
    // to 23:00 at the latest.
    const episodes = store.events({ target: 'lab', type: 'loss' });
    assert.equal(episodes.length, DAYS);
    for (const e of episodes) {
      assert.ok(EVENING.includes(beijingHour(e.start)), new Date(e.start).toISOString());
      assert.ok(e.end !== null && e.end - e.start <= 3 * 3_600_000, `${new Date(e.start).toISOString()} ${e.end}`);
    }
    assert.equal(store.events({ type: 'route-change' }).length, 0);

    // Bounds (docs/watch.md): the database file, and the heap the watch grew by.
    const bytes = statSync(file).size;
    const bound = 64 * 1024 + samples.length * 1024 + hours.length * 512;
    assert.ok(bytes <= bound, `database ${bytes} bytes, bound ${bound}`);
    assert.ok(heapGrowth < 64 * 1024 * 1024, `heap grew ${heapGrowth} bytes`);
    console.log(
      `# week: ${DAYS * 48} samples, ${samples.length} kept, ${hours.length} hours, ${bytes} bytes on disk, ` +
        `heap +${(heapGrowth / 1e6).toFixed(1)} MB`,
    );
    store.close();
  });
});
