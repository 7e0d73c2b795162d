// vpsline beside real mtr (Debian's mtr-tiny) on the same simulated path:
// same hops (??? included), loss within 10 points, Avg within 0.3 ms.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { labSkipReason, type Netns } from '../../lab/netns.js';
import { projectRoot } from '../../lab/checkout.js';
import { useSimulatedPath } from './suite.js';
import { toolSkipReason } from '../../lab/tools.js';

const skip = labSkipReason() ?? toolSkipReason('mtr', 'mtr-tiny');

interface Row {
  ttl: number;
  host: string;
  loss: number;
  sent: number;
  avg: number;
}

/** Rows of an `mtr -rwn` report (the layout both tools print). */
function parseReport(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    const m = /^ *(\d+)\.\|-- (\S+) +([\d.]+)%? +(\d+) +([\d.]+) +([\d.]+)/.exec(line);
    if (m) rows.push({ ttl: Number(m[1]), host: m[2]!, loss: Number(m[3]), sent: Number(m[4]), avg: Number(m[6]) });
  }
  return rows;
}

/** Run a command in the namespace and collect its output. */
async function run(ns: Netns, cmd: string, args: string[]): Promise<string> {
  const r = await promisify(execFile)('ip', ['netns', 'exec', ns.name, cmd, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return r.stdout;
}

describe('vpsline mtr beside real mtr on one path', { skip }, () => {
  const path = useSimulatedPath('mtr-compare');

  for (const [family, target, flags] of [
    [4, '198.18.250.1', []],
    [6, '2001:2:0:250::1', []],
    [4, '198.18.250.1', ['-u']],
  ] as const) {
    const name = `IPv${family}${flags.length ? ` ${flags.join(' ')}` : ''}`;
    test(`${name}: same hops, loss within 10 points, Avg within 0.3 ms`, async (t) => {
      const args = ['-rwn', '-c', '10', '-i', '0.2', ...flags, target];
      const theirs = parseReport(await run(path.sim.ns, 'mtr', args));
      const ours = parseReport(
        await run(path.sim.ns, process.execPath, [`${projectRoot}/bin/vpsline.js`, 'mtr', ...args]),
      );
      t.diagnostic(`mtr:     ${theirs.map((r) => `${r.host} ${r.loss}% ${r.avg}`).join(' | ')}`);
      t.diagnostic(`vpsline: ${ours.map((r) => `${r.host} ${r.loss}% ${r.avg}`).join(' | ')}`);
      assert.deepEqual(
        ours.map((r) => [r.ttl, r.host]),
        theirs.map((r) => [r.ttl, r.host]),
      );
      ours.forEach((o, i) => {
        const m = theirs[i]!;
        assert.equal(o.sent, 10);
        assert.ok(Math.abs(o.loss - m.loss) <= 10, `hop ${o.ttl}: loss ${o.loss} vs mtr ${m.loss}`);
        // Both reports print tenths of a millisecond: compare in tenths
        // (12.4 - 12.1 is 0.30000000000000071 in floating point).
        if (o.ttl >= 3)
          assert.ok(Math.round(Math.abs(o.avg - m.avg) * 10) <= 3, `hop ${o.ttl}: Avg ${o.avg} vs mtr ${m.avg}`);
      });
      assert.equal(theirs[1]!.host, '???');
    });
  }
});
