// Traces, target lists and carrier files that are not what the tools write
// today: old mtr's quoted numbers, fields of the wrong type, carriers added
// by a user file. Each gets a verdict or one clear error, never a TypeError.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CarrierTable, parseTable } from '../../src/lookup/carriers.js';
import { loadTargets } from '../../src/route/backtrace.js';
import { classify } from '../../src/route/classify.js';
import { importTrace } from '../../src/route/import.js';
import { scratchDir } from '../support/scratch.js';

test('older mtr versions wrote "count" as a string: TTLs are numbers, so hop 10 comes after hop 4', () => {
  const hosts = ['198.18.1.1', '203.0.113.9', '59.43.1.1', '59.43.2.1', '198.18.5.5'];
  hosts.push('198.18.6.6', '198.18.7.7', '198.18.8.8', '198.18.9.1', '202.97.1.1');
  const hubs = hosts.map((host, i) => ({ count: String(i + 1), host, 'Loss%': 0 }));
  const t = importTrace(JSON.stringify({ report: { mtr: { dst: '198.18.9.9' }, hubs } }));
  assert.deepEqual(
    t.hops.map((h) => h.ttl),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  // As strings, "10" < "3" put the 202.97 hop before CN2: the evidence keeps the path's order.
  const c = classify(t.hops, CarrierTable.load());
  assert.deepEqual(
    c.evidence.map((e) => [e.ttl, e.carrier]),
    [
      [3, 'cn2'],
      [4, 'cn2'],
      [10, 'chinanet-163'],
    ],
  );
});

test('JSON fields of the wrong type are read as absent', () => {
  const mtr = importTrace(JSON.stringify({ report: { hubs: [null, { host: 5 }, { count: 3, host: '198.18.1.1' }] } }));
  assert.equal(mtr.format, 'mtr-json');
  assert.deepEqual(
    mtr.hops.map((h) => [h.ttl, h.address]),
    [
      [1, null],
      [2, null],
      [3, '198.18.1.1'],
    ],
  );
  const trippy = importTrace(
    JSON.stringify({
      info: { target: 7 },
      hops: [null, { ttl: 2, hosts: [null, { ip: '198.18.2.2' }], extensions: 1 }],
    }),
  );
  assert.equal(trippy.format, 'trippy-json');
  assert.equal(trippy.target, undefined);
  assert.deepEqual(
    trippy.hops.map((h) => [h.ttl, h.address, h.mpls ?? false]),
    [
      [1, null, false],
      [2, '198.18.2.2', false],
    ],
  );
  const next = importTrace(
    JSON.stringify({
      Hops: [[null, { Success: true, Address: 'x' }, { Success: true, Address: { IP: '198.18.1.1' } }]],
    }),
  );
  assert.deepEqual(
    next.hops.map((h) => [h.ttl, h.address]),
    [[1, '198.18.1.1']],
  );
});

test('backtrace target lists: an entry that is not an object, or "targets" that is not a list', () => {
  const dir = scratchDir('vpsline-targets-');
  const file = join(dir, 't.json');
  writeFileSync(file, '[null]');
  assert.throws(() => loadTargets(file), /target 1 needs an IP address/);
  writeFileSync(file, '{"targets": "198.18.9.9"}');
  assert.throws(() => loadTargets(file), /has no targets/);
});

test('a carrier added by a user file as the first segment, with no hop of a known line: inconclusive', () => {
  const extra = parseTable(
    JSON.stringify({ carriers: [{ id: 'cu-lab', family: 'cu', prefixes: ['198.51.100.0/24'] }] }),
    'mine.json',
  );
  const table = new CarrierTable([...CarrierTable.load().carriers, ...extra]);
  const c = classify(
    [
      { ttl: 1, address: '203.0.113.1' },
      { ttl: 2, address: '198.51.100.1' },
      { ttl: 3, address: '198.51.100.2' },
    ],
    table,
  );
  assert.equal(c.verdict, 'inconclusive');
  assert.equal(c.confidence, 'low');
  assert.deepEqual(c.noteCodes, [{ code: 'unknown-line', params: { carrier: 'cu-lab' } }]);
  assert.match(c.notes[0] ?? '', /\(cu-lab\) is not one the rules know/);
});
