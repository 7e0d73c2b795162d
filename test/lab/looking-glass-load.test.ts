// Load on the looking glass, from loopback inside the lab: 50 traces and 200
// live viewers at once. Each watched trace's Best must stay within 50 µs of
// the same 50 traces run with nobody watching (replies are kernel-stamped,
// so the web load must not bend them; Avg is printed, see below), every viewer must get the same result the API
// serves, and the caps must hold: the 51st to 60th traces and the 201st
// viewer are refused. A trace run alone is reported too: the lab simulator
// itself wakes more slowly when the machine is idle (see the README).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { serverBase } from '../support/serve-process.js';
import { projectRoot } from '../../lab/checkout.js';
import { labSkipReason } from '../../lab/netns.js';
import { useSimulatedPath } from './suite.js';
import { scratchDir } from '../support/scratch.js';

const skip = labSkipReason();
const TOKEN = 'load-test-token-0123456789';

describe('looking glass under load', { skip }, () => {
  const path = useSimulatedPath('twenty-ms');

  test('50 traces and 200 viewers: Best within 50 µs of idle, every answer right, caps hold', async () => {
    const dir = scratchDir('vpsline-lg-load-');
    chmodSync(dir, 0o755);
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        tokens: [TOKEN],
        allow: ['198.18.0.0/15'],
        limits: {
          maxConcurrent: 50,
          maxPerClient: 50,
          maxPerTarget: 50,
          tracesPerClientPerHour: 1000,
          tracesPerTargetPerHour: 1000,
          maxStreams: 200,
          maxStreamsPerClient: 200,
          // Every simulated visitor comes from the driver's one address.
          maxConnectionsPerClient: 1000,
          requestsPerClientPerMinute: 100_000,
          interval: 0.2,
        },
      }),
    );
    const ns = path.sim.ns;
    const server = path.lab.spawn(
      ns,
      process.execPath,
      [
        join(projectRoot, 'bin', 'vpsline.js'),
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--db',
        join(dir, 'lg.db'),
        '--config',
        config,
        '--no-dns',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const base = await serverBase(server);
    const { stdout } = await promisify(execFile)(
      'ip',
      [
        'netns',
        'exec',
        ns.name,
        process.execPath,
        '--import',
        'tsx',
        join(projectRoot, 'test', 'lab', 'lg-load-driver.ts'),
        base,
        TOKEN,
        '198.18.200.1',
      ],
      { cwd: projectRoot, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 },
    );
    const r = JSON.parse(stdout) as {
      alone: { avg: number; best: number };
      baseline: { avg: number; best: number }[];
      statuses: number[];
      loaded: { avg: number; best: number }[];
      finished: string[];
      viewers: number;
      viewerStatuses: number[];
      viewersWithHops: number;
      viewersMatching: number;
      extraViewerStatus: number;
    };
    assert.equal(r.statuses.filter((s) => s === 202).length, 50, 'exactly the cap started');
    assert.deepEqual([...new Set(r.statuses.filter((s) => s !== 202))], [503], 'the rest were told the server is busy');
    assert.ok(r.finished.every((s) => s === 'done'));
    assert.equal(r.viewers, 200);
    assert.deepEqual(r.viewerStatuses, [200]);
    assert.equal(r.viewersWithHops, 200, 'every viewer saw hops live');
    assert.equal(r.viewersMatching, 200, "every viewer's final result is the one the API serves");
    assert.equal(r.extraViewerStatus, 429, 'the 201st viewer is refused');
    console.log(JSON.stringify({ alone: r.alone, baseline: r.baseline, loaded: r.loaded }));
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    assert.ok(r.alone.avg >= 20 && r.alone.avg < 21, `a trace alone reads ${r.alone.avg} ms on a 20 ms link`);
    const quiet = { avg: median(r.baseline.map((x) => x.avg)), best: median(r.baseline.map((x) => x.best)) };
    const loaded = { avg: median(r.loaded.map((x) => x.avg)), best: median(r.loaded.map((x) => x.best)) };
    const figures =
      `alone ${r.alone.avg}/${r.alone.best} ms, 50 unwatched ${quiet.avg}/${quiet.best} ms, ` +
      `50 watched by 200 ${loaded.avg}/${loaded.best} ms (median Avg/Best)`;
    console.log(figures);
    // Avg carries the simulator's own lateness under 50 traces, which differs from run to run on a slow
    // machine (50 unwatched traces read a median Avg of 20.815 ms once and 24.028 ms once, the same 50
    // watched 20.493 and 20.586 ms): it is printed, not compared. Best is the check, per trace.
    for (const t of r.loaded)
      assert.ok(
        Math.abs(t.best - quiet.best) <= 0.05,
        `a watched trace's Best ${t.best} ms is more than 50 µs from ${quiet.best}: ${figures}`,
      );
  });
});
