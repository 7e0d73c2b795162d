// Layouts checked against lines printed by real mtr 0.95 (Debian mtr-tiny) in
// a lab run: the expected strings below are that program's output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderReport } from '../../src/report/mtr-report.js';
import { hop, sampleReport as report } from './sample-report.js';

const A = report([
  hop(1, '198.18.1.1', 0, 10, 0.1, 0.1, 0.1, 0.1, 0),
  hop(2, '198.18.2.2', 30, 10, 0.1, 0.1, 0.1, 0.1, 0),
  hop(3, '198.18.3.2', 0, 10, 0.1, 0.1, 0.1, 0.1, 0),
  hop(4, '198.18.4.2', 10, 10, 15.1, 14.9, 11.0, 20.4, 3.0),
]);

test('mtr -rwn layout (wide: rows two columns right of the header, as mtr prints them)', () => {
  const lines = renderReport(A, { wide: true }).split('\n');
  assert.match(lines[0]!, /^Start: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/);
  assert.deepEqual(lines.slice(1), [
    'HOST: vm         Loss%   Snt   Last   Avg  Best  Wrst StDev',
    '  1.|-- 198.18.1.1  0.0%    10    0.1   0.1   0.1   0.1   0.0',
    '  2.|-- 198.18.2.2 30.0%    10    0.1   0.1   0.1   0.1   0.0',
    '  3.|-- 198.18.3.2  0.0%    10    0.1   0.1   0.1   0.1   0.0',
    '  4.|-- 198.18.4.2 10.0%    10   15.1  14.9  11.0  20.4   3.0',
  ]);
});

test('mtr -r layout (narrow: statistics from column 33)', () => {
  const lines = renderReport(A).split('\n');
  assert.equal(lines[1], 'HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst StDev');
  assert.equal(lines[2], '  1.|-- 198.18.1.1                 0.0%    10    0.1   0.1   0.1   0.1   0.0');
  const long = renderReport(report([hop(1, 'a-very-long-router-name.example.net', 0, 10, 1, 1, 1, 1, 0)])).split('\n');
  assert.equal(long[2]!.indexOf('0.0%'), 35, 'a long name is cut so the columns stay put');
});

test('silent hop and 100% loss print like mtr (the % falls off)', () => {
  const r = report([hop(1, '198.18.1.1', 0, 5, 0.1, 0.1, 0.1, 0.1, 0), hop(2, null, 100, 5, 0, 0, 0, 0, 0)]);
  assert.equal(
    renderReport(r, { wide: true }).split('\n')[3],
    '  2.|-- ???        100.0     5    0.0   0.0   0.0   0.0   0.0',
  );
});

test('extra ECMP responders are listed under their hop', () => {
  const r = report([hop(2, '198.18.5.2', 0, 10, 0.1, 0.1, 0.0, 0.1, 0, ['198.18.2.2'])]);
  assert.deepEqual(renderReport(r, { wide: true }).split('\n').slice(2), [
    '  2.|-- 198.18.5.2  0.0%    10    0.1   0.1   0.0   0.1   0.0',
    // Padded to the host column, here as wide as the name (test/golden/mtr/rw-v4.txt).
    '        198.18.2.2',
  ]);
});

test('-o field order, including the spacer', () => {
  const lines = renderReport(A, { wide: true, fields: 'LDRS NBAWVGJMXI' }).split('\n');
  assert.equal(
    lines[1],
    'HOST: vm         Loss% Drop   Rcv   Snt   Last  Best   Avg  Wrst StDev Gmean Jttr Javg Jmax Jint',
  );
});

test('-b shows name and address; names come from the resolver', () => {
  const names: Record<string, string> = { '198.18.1.1': 'r1.lab' };
  const out = renderReport(A, { wide: true, showBoth: true, nameOf: (a) => names[a] }).split('\n');
  assert.match(out[2]!, /^ {2}1\.\|-- r1\.lab \(198\.18\.1\.1\) /);
  assert.match(out[3]!, /^ {2}2\.\|-- 198\.18\.2\.2 /);
});
