import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderScreen, sparkline, type ScreenState } from '../../src/report/live.js';
import { hop } from './sample-report.js';

function state(over: Partial<ScreenState> = {}): ScreenState {
  return {
    title: 'vpsline mtr  [v0.1.0]',
    source: 'vm',
    target: 'example.net',
    address: '198.18.4.2',
    hops: [
      hop(1, '198.18.1.1', 0, 10, 0.1, 0.1, 0.1, 0.1, 0),
      hop(2, null, 100, 10, 0, 0, 0, 0, 0),
      hop(3, '198.18.4.2', 10, 10, 15.1, 14.9, 11, 20.4, 3),
    ],
    samples: new Map([[3, [11, 20.4, null, 15]]]),
    mode: 'stats',
    paused: false,
    now: new Date('2026-11-28T04:00:00Z'),
    columns: 80,
    rows: 12,
    ...over,
  };
}

test('the screen: exactly `rows` lines, none wider than the terminal', () => {
  for (const columns of [20, 60, 80, 200]) {
    for (const mode of ['stats', 'jitter', 'chart'] as const) {
      const lines = renderScreen(state({ columns, mode }));
      assert.equal(lines.length, 12);
      assert.ok(
        lines.every((l) => l.length <= Math.max(20, columns)),
        `${mode} at ${columns}`,
      );
    }
  }
});

test('statistics rows line up with the header, ??? for silent hops', () => {
  const lines = renderScreen(state());
  assert.equal(lines[1], `vm -> example.net (198.18.4.2)${' '.repeat(80 - 30 - 21)} 2026-11-28T04:00:00Z`);
  // 80 columns less 43 for the statistics: the host column is 37 wide.
  assert.equal(lines[4], `${' Host'.padEnd(37)} Loss%   Snt   Last   Avg  Best  Wrst StDev`);
  assert.match(lines[6]!, /^ {2}2\. \?\?\? +100\.0 +10 /);
  assert.equal(lines[7]!.indexOf('10.0%'), lines[4]!.indexOf('Loss%'));
});

test('strip chart: one character per sample, ? for a lost probe', () => {
  // 15 ms sits at 43 % of 11..20.4 ms: the fourth of eight levels.
  assert.equal(sparkline([11, 20.4, null, 15]), '▁█?▄');
  assert.equal(sparkline([5, 5, 5]), '▁▁▁');
  const chart = renderScreen(state({ mode: 'chart' }));
  assert.ok(chart[7]!.endsWith('▁█?▄'));
});

test('paused is shown', () => {
  assert.ok(renderScreen(state({ paused: true }))[2]!.endsWith('[paused]'));
});

test('-z: the AS column in front of each host, AS??? where unknown, statistics still aligned', () => {
  const lines = renderScreen(state({ asOf: (a) => (a === '198.18.4.2' ? '4809' : null) }));
  assert.match(lines[5]!, /^ {2}1\. AS\?\?\? {4}198\.18\.1\.1 /);
  assert.match(lines[6]!, /^ {2}2\. AS\?\?\? {4}\?\?\? /);
  assert.match(lines[7]!, /^ {2}3\. AS4809 {3}198\.18\.4\.2 /);
  assert.equal(lines[7]!.indexOf('10.0%'), lines[4]!.indexOf('Loss%'));
});
