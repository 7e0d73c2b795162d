// Lines below are shaped like the tools' real output (mtr 0.95, traceroute 2.1).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CarrierTable } from '../../src/lookup/carriers.js';
import { classify } from '../../src/route/classify.js';
import { importTrace } from '../../src/route/import.js';
import { scratchDir } from '../support/scratch.js';

test('mtr -rwb: "name (address)" keeps the address; -z rows carry the AS', () => {
  const t = importTrace(
    [
      'Start: 2026-11-28T04:38:04+0000',
      'HOST: vm                        Loss%   Snt   Last   Avg  Best  Wrst StDev',
      '  1.|-- r1.example (198.18.1.1)   0.0%    10    0.1   0.1   0.1   0.1   0.0',
      '  2.|-- ???                      100.0    10    0.0   0.0   0.0   0.0   0.0',
      ' 3. AS4809        59.43.1.1       0.0%    10    1.1   1.1   1.1   1.1   0.0',
      '  4.|-- only-a-name.example        0.0%    10    2.0   2.0   2.0   2.0   0.0',
    ].join('\n'),
  );
  assert.equal(t.format, 'mtr-report');
  assert.deepEqual(
    t.hops.map((h) => [h.ttl, h.address, h.asn ?? null]),
    [
      [1, '198.18.1.1', null],
      [2, null, null],
      [3, '59.43.1.1', 4809],
      [4, null, null],
    ],
  );
  assert.equal(t.namesOnly, 1);
});

test('traceroute text: names with addresses, silent lines, besttrace AS columns', () => {
  const t = importTrace(
    [
      'traceroute to 198.18.9.9 (198.18.9.9), 30 hops max, 60 byte packets',
      ' 1  gw.example (198.18.1.1)  0.512 ms',
      ' 2  *',
      ' 3  59.43.246.2  151.2 ms  AS4809  China Telecom',
    ].join('\n'),
  );
  assert.equal(t.format, 'traceroute');
  assert.equal(t.target, '198.18.9.9');
  assert.deepEqual(
    t.hops.map((h) => [h.ttl, h.address, h.asn ?? null]),
    [
      [1, '198.18.1.1', null],
      [2, null, null],
      [3, '59.43.246.2', 4809],
    ],
  );
});

test('bad input gets one clear line', () => {
  assert.throws(() => importTrace('   '), /The trace is empty/);
  assert.throws(() => importTrace('{"report": 1'), /looks like JSON but does not parse/);
  assert.throws(() => importTrace('{"hello": "world"}'), /not a trace vpsline reads/);
  assert.throws(() => importTrace('[]'), /not a trace vpsline reads/);
  assert.throws(() => importTrace('[1, 2]'), /not a trace vpsline reads/);
  assert.throws(() => importTrace('\u0000\u0001binary'), /binary data, not a trace/);
  assert.throws(() => importTrace('{"Hops": [1]}'), /not a trace vpsline reads/);
  assert.throws(() => importTrace('just some words\nand more'), /Cannot read this trace/);
});

test('backtrace target lists: JSON or "<address> <name>" lines; bad entries are named', async () => {
  const { loadTargets } = await import('../../src/route/backtrace.js');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = scratchDir('vpsline-targets-');
  const lines = join(dir, 't.txt');
  writeFileSync(lines, '# lab\n198.18.9.9 Lab one\n2001:2::9  Lab v6\n');
  assert.deepEqual(
    loadTargets(lines).map((t) => [t.address, t.name]),
    [
      ['198.18.9.9', 'Lab one'],
      ['2001:2::9', 'Lab v6'],
    ],
  );
  writeFileSync(lines, 'not-an-address Lab\n');
  assert.throws(() => loadTargets(lines), /target 1 needs an IP address/);
  assert.equal(loadTargets().length, 21, 'the built-in list: 3 carriers x 4 cities, and IPv6 for 3 cities');
});

// Files written to each tool's documented JSON (neither tool is packaged for
// Debian): trippy's report/types.rs and NextTrace's trace.Result marshalled by
// Go's encoding/json. Their addresses are data, never probed.
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('trippy -m json: first responder per TTL, silent TTLs, MPLS extensions, target', () => {
  const t = importTrace(fixture('trippy-cn2-gia.json'));
  assert.equal(t.format, 'trippy-json');
  assert.equal(t.target, '198.18.9.9');
  assert.deepEqual(
    t.hops.map((h) => [h.ttl, h.address, h.mpls ?? false]),
    [
      [1, '198.18.1.1', false],
      [2, '203.0.113.9', false],
      [3, null, false],
      [4, '59.43.182.101', true],
      [5, '59.43.246.2', false],
      [6, '59.43.130.9', false],
      [7, '198.18.9.9', false],
    ],
  );
  assert.equal(t.multiAddress, 1);
  assert.equal(classify(t.hops, CarrierTable.load()).verdict, 'cn2-gia');
});

test('nexttrace --json: most frequent address per TTL, AS numbers from Geo, MPLS strings', () => {
  const t = importTrace(fixture('nexttrace-10099-4837.json'));
  assert.equal(t.format, 'nexttrace-json');
  assert.deepEqual(
    t.hops.map((h) => [h.ttl, h.address, h.asn ?? null, h.mpls ?? false]),
    [
      [1, '198.18.1.1', null, false],
      [2, '203.0.113.9', 64496, false],
      [3, null, null, false],
      [4, '43.252.86.65', 10099, false],
      [5, '43.252.86.130', 10099, false],
      [6, '219.158.3.9', 4837, false],
      [7, '219.158.98.6', 4837, true],
      [8, '198.18.9.9', null, false],
    ],
  );
  assert.equal(t.multiAddress, 1);
  // CUG (AS10099) abroad, named by NextTrace's AS numbers, handing over to 4837 at home: the line is 4837.
  const c = classify(t.hops, CarrierTable.load());
  assert.equal(c.verdict, 'cu-4837');
  assert.ok(c.noteCodes.some((n) => n.code === 'via-cug'));
  // 43.252.84.0/22 is AS10099's in routing data: the table names these hops by prefix now.
  assert.deepEqual(
    c.evidence.filter((e) => e.carrier === 'cu-10099').map((e) => e.ttl),
    [4, 5],
  );
});

test('Windows tracert: "<1 ms", timed-out lines, "name [address]", the target from the header', () => {
  const t = importTrace(
    [
      '',
      'Tracing route to example.net [198.18.9.9]',
      'over a maximum of 30 hops:',
      '',
      '  1    <1 ms    <1 ms    <1 ms  192.168.1.1',
      '  2     *        *        *     Request timed out.',
      '  3    10 ms     9 ms    10 ms  59.43.1.1',
      '  4    11 ms    11 ms    12 ms  r4.example.net [59.43.2.1]',
      '  5    12 ms    12 ms    12 ms  example.net [198.18.9.9]',
      '',
      'Trace complete.',
    ].join('\r\n'),
  );
  assert.equal(t.format, 'tracert');
  assert.equal(t.target, '198.18.9.9');
  assert.deepEqual(
    t.hops.map((h) => [h.ttl, h.address]),
    [
      [1, '192.168.1.1'],
      [2, null],
      [3, '59.43.1.1'],
      [4, '59.43.2.1'],
      [5, '198.18.9.9'],
    ],
  );
  assert.equal(t.namesOnly, 0);
});

test('a pasted shell prompt and command line before a report or JSON are skipped', () => {
  const report = [
    '[root@host ~]# mtr -rz -c 10 198.18.9.9',
    'Start: 2026-11-28T04:38:04+0000',
    'HOST: host                     Loss%   Snt   Last   Avg  Best  Wrst StDev',
    '  1. AS???    10.0.0.1         0.0%    10    0.1   0.1   0.1   0.1   0.0',
    '  2. AS4809   59.43.1.1        0.0%    10    1.1   1.1   1.1   1.1   0.0',
  ].join('\n');
  const t = importTrace(report);
  assert.equal(t.format, 'mtr-report');
  assert.deepEqual(
    t.hops.map((h) => [h.ttl, h.address, h.asn ?? null]),
    [
      [1, '10.0.0.1', null],
      [2, '59.43.1.1', 4809],
    ],
  );
  const doc = JSON.stringify({ report: { hubs: [{ count: 1, host: '59.43.1.1' }] } });
  const json = importTrace(`root@vps:~# mtr -j 198.18.9.9\n${doc}\nroot@vps:~# `);
  assert.equal(json.format, 'mtr-json');
});

test('mtr -rz with names: the AS column still names the hop', () => {
  const t = importTrace(
    [
      'HOST: vm                        Loss%   Snt   Last   Avg  Best  Wrst StDev',
      '  1. AS???    gw.example           0.0%    10    0.1   0.1   0.1   0.1   0.0',
      '  2. AS4809   cn2-core.example     0.0%    10    1.1   1.1   1.1   1.1   0.0',
      '  3. AS4809   cn2-edge.example     0.0%    10    1.1   1.1   1.1   1.1   0.0',
      '  4. AS4812   sh.example           0.0%    10    1.1   1.1   1.1   1.1   0.0',
    ].join('\n'),
  );
  const c = classify(t.hops, CarrierTable.load(), { namesOnly: t.namesOnly });
  assert.equal(c.verdict, 'cn2-gia');
  assert.deepEqual(
    c.evidence.map((e) => [e.ttl, e.carrier, e.by]),
    [
      [2, 'cn2', 'asn'],
      [3, 'cn2', 'asn'],
      [4, 'ct-access', 'asn'],
    ],
  );
});
