// Lines below are shaped like the tools' real output (mtr 0.95, traceroute 2.1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTrace } from '../../src/route/import.js';

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
  assert.deepEqual(t.hops.map((h) => [h.ttl, h.address, h.asn ?? null]), [
    [1, '198.18.1.1', null],
    [2, null, null],
    [3, '59.43.1.1', 4809],
    [4, null, null],
  ]);
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
  assert.deepEqual(t.hops.map((h) => [h.ttl, h.address, h.asn ?? null]), [
    [1, '198.18.1.1', null],
    [2, null, null],
    [3, '59.43.246.2', 4809],
  ]);
});

test('bad input gets one clear line', () => {
  assert.throws(() => importTrace('   '), /The trace is empty/);
  assert.throws(() => importTrace('{"report": 1'), /looks like JSON but does not parse/);
  assert.throws(() => importTrace('{"hello": "world"}'), /not an mtr or vpsline report/);
  assert.throws(() => importTrace('just some words\nand more'), /Cannot read this trace/);
});
