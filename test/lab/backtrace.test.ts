// `vpsline backtrace --targets` on a lab path whose hops a test carrier file
// maps to carriers. Never the default target list: lab addresses only.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../lab/checkout.js';
import { labSkipReason } from '../../lab/netns.js';
import { scenarioDir } from '../../lab/sim/scenario.js';
import { useSimulatedPath } from './suite.js';
import { scratchDir } from '../support/scratch.js';

const skip = labSkipReason();

function files(): { carriers: string; targets: string } {
  const dir = scratchDir('vpsline-backtrace-');
  // Which lab prefixes play which carrier (shared with return-routes.test.ts).
  const carriers = join(scenarioDir, 'backtrace-carriers.json');
  const targets = join(dir, 'targets.json');
  writeFileSync(
    targets,
    JSON.stringify([
      { name: 'Lab CT 1', carrier: 'ct', address: '198.18.231.1' },
      { name: 'Lab CT 2', carrier: 'ct', address: '198.18.232.1' },
      { name: 'Lab CM', carrier: 'cm', address: '198.18.233.1' },
      { name: 'Lab CU v6', carrier: 'cu', address: '2001:2:0:234::1' },
    ]),
  );
  return { carriers, targets };
}

describe('vpsline backtrace on lab targets', { skip }, () => {
  const path = useSimulatedPath('backtrace');
  const { carriers, targets } = files();
  /** vpsline with these arguments inside the lab namespace; its standard output. */
  const vpsline = async (args: string[]): Promise<string> =>
    (
      await promisify(execFile)(
        'ip',
        ['netns', 'exec', path.sim.ns.name, process.execPath, `${projectRoot}/bin/vpsline.js`, ...args],
        { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 },
      )
    ).stdout;
  /** A quick backtrace (2 rounds, TTL 8) of these targets with these carriers. */
  const backtrace = (list: string, table: string, extra: string[]): Promise<string> =>
    vpsline(['backtrace', '--targets', list, '--carriers', table, '-c', '2', '-i', '0.1', '-m', '8', ...extra]);
  const run = (extra: string[]): Promise<string> => backtrace(targets, carriers, extra);

  test('every target traced at once and classified, the silent one marked', async () => {
    const rows = JSON.parse(await run(['--json'])) as {
      target: { name: string };
      verdict: string;
      landing: string | null;
      destinationAnswered: boolean;
      rttMs: number | null;
      segments: { carrier: string; ttls: number[] }[];
    }[];
    const by = Object.fromEntries(rows.map((r) => [r.target.name, r]));
    assert.equal(by['Lab CT 1']!.verdict, 'cn2-gia');
    assert.deepEqual(by['Lab CT 1']!.segments, [{ carrier: 'cn2', asn: 4809, ttls: [2, 3, 4] }]);
    assert.ok(by['Lab CT 1']!.rttMs! >= 5, 'RTT at the destination');
    assert.equal(by['Lab CT 2']!.verdict, 'cn2-gt');
    assert.equal(by['Lab CM']!.verdict, 'cmi');
    assert.equal(by['Lab CM']!.landing, 'cmnet');
    assert.equal(by['Lab CM']!.destinationAnswered, false);
    assert.equal(by['Lab CU v6']!.verdict, 'cu-9929');
  });

  test('vpsline mtr --carriers tags each hop, in the wide report and in JSON', async () => {
    const mtr = (args: string[]): Promise<string> =>
      vpsline(['mtr', '--carriers-file', carriers, '-c', '2', '-i', '0.1', ...args]);
    const report = await mtr(['-rwn', '198.18.232.1']);
    assert.match(report, /^ {2}1\.\|-- 198\.18\.140\.1 +0\.0%/m);
    assert.match(report, /^ {2}2\.\|-- 198\.18\.141\.1 \[CN2\] +0\.0%/m);
    assert.match(report, /^ {2}4\.\|-- 198\.18\.143\.1 \[163\] +0\.0%/m);
    const json = JSON.parse(await mtr(['-j', '-n', '198.18.232.1'])) as {
      report: { hubs: { host: string; vpsline: { carrier?: string } }[] };
    };
    assert.deepEqual(
      json.report.hubs.map((h) => h.vpsline.carrier ?? null),
      [null, 'CN2', 'CN2', '163', '163', null],
    );
    assert.equal(json.report.hubs[1]!.host, '198.18.141.1', "mtr's host key stays as mtr prints it");
  });

  test('the summary table, in Chinese', async () => {
    const out = await run(['--lang', 'zh', '-4']);
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^目标 +运营商 +回程线路 +落地 +证据（跳） +延迟 +丢包$/);
    assert.equal(lines.length, 4, 'the IPv6 target is left out with -4');
    assert.ok(lines.some((l) => l.includes('电信 CN2 GIA [精品线路]')));
    assert.ok(lines.some((l) => l.includes('电信 CN2 GT [优质线路]')));
    assert.ok(lines.some((l) => l.includes('移动 CMI [普通线路] (目标无回应)') && l.includes('cmnet')));
  });

  test('hops the carrier file does not name are named by a local AS database (--asn-db)', async () => {
    const dir = scratchDir('vpsline-asn-db-');
    // 163 known by its AS number only: no prefixes in this carrier file.
    const noPrefixes = join(dir, 'carriers.json');
    writeFileSync(
      noPrefixes,
      JSON.stringify({
        carriers: [
          { id: 'cn2', asn: 4809, family: 'ct', prefixes: ['198.18.141.0/24', '198.18.142.0/24'] },
          { id: 'chinanet-163', asn: 4134, family: 'ct', prefixes: [] },
        ],
      }),
    );
    const db = join(dir, 'asn.txt');
    writeFileSync(db, '198.18.143.0/24 4134\n198.18.144.0/24 AS4134\n');
    const lab2 = join(dir, 'targets.txt');
    writeFileSync(lab2, '198.18.232.1 Lab CT 2\n');
    const ask = async (extra: string[]): Promise<{ verdict: string; evidence: { ttl: number; by: string }[] }> =>
      (
        JSON.parse(await backtrace(lab2, noPrefixes, ['--json', ...extra])) as {
          verdict: string;
          evidence: { ttl: number; by: string }[];
        }[]
      )[0]!;
    const named = await ask(['--asn-db', db]);
    assert.equal(named.verdict, 'cn2-gt');
    assert.deepEqual(
      named.evidence.filter((e) => e.by === 'asn').map((e) => e.ttl),
      [4, 5],
    );
    // Without the database the 163 hops are unknown and the GT evidence is gone.
    const unnamed = await ask([]);
    assert.notEqual(unnamed.verdict, 'cn2-gt');
  });

  test('flows that take different lines are named, each with its count (--flows 16)', async () => {
    const dir = scratchDir('vpsline-flows-');
    const split = join(dir, 'carriers.json');
    writeFileSync(
      split,
      JSON.stringify({
        carriers: [
          { id: 'cn2', asn: 4809, family: 'ct', prefixes: ['198.18.171.0/24', '198.18.172.1/32'] },
          { id: 'chinanet-163', asn: 4134, family: 'ct', prefixes: ['198.18.172.2/32'] },
          { id: 'ct-access', family: 'ct', role: 'access', prefixes: ['198.18.173.0/24', '198.18.235.0/24'] },
        ],
      }),
    );
    const target = join(dir, 'targets.txt');
    writeFileSync(target, '198.18.235.1 Lab split\n');
    const out = await backtrace(target, split, ['--flows', '16', '--json']);
    const [row] = JSON.parse(out) as {
      verdict: string;
      confidence: string;
      notes: string[];
      flows: { verdict: string }[];
    }[];
    // 16 flows over two routers: all on one side has a chance of 2 in 65,536.
    const lines = new Set(row!.flows.map((f) => f.verdict));
    assert.deepEqual([...lines].sort(), ['cn2-gia', 'cn2-gt']);
    assert.equal(row!.flows.length, 16);
    assert.equal(row!.confidence, 'low');
    assert.ok(
      row!.notes.some((n) => /cn2-gia \(\d+ of 16\)/.test(n) && /cn2-gt \(\d+ of 16\)/.test(n)),
      row!.notes.join('\n'),
    );
  });
});
