// The live view says when the destination has not answered (a home address
// that drops ping is the common case), and says nothing while it has.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderScreen, type ScreenState } from '../../src/report/live.js';
import { hop } from './sample-report.js';

function state(hops: ScreenState['hops']): ScreenState {
  return {
    title: 'vpsline mtr',
    source: 'vm',
    target: '198.18.4.2',
    address: '198.18.4.2',
    hops,
    samples: new Map(),
    mode: 'stats',
    paused: false,
    now: new Date('2026-12-02T04:00:00Z'),
    columns: 100,
    rows: 20,
  };
}

const silentLine = (lines: string[]): string | undefined => lines.find((l) => l.startsWith('The destination '));

test('a silent destination behind a lossy hop is named, with the last hop that answered', () => {
  const lines = renderScreen(
    state([
      hop(1, '198.18.1.1', 0, 10, 0.1, 0.1, 0.1, 0.1, 0),
      hop(2, '198.18.2.1', 30, 10, 5, 5, 5, 5, 0),
      hop(3, null, 100, 10, 0, 0, 0, 0, 0),
    ]),
  );
  assert.equal(silentLine(lines), 'The destination 198.18.4.2 has not answered; the last hop that answered is 2.');
});

test('nothing said when the destination answered, or before every hop has a result', () => {
  assert.equal(silentLine(renderScreen(state([hop(1, '198.18.4.2', 0, 10, 1, 1, 1, 1, 0)]))), undefined);
  assert.equal(silentLine(renderScreen(state([]))), undefined);
});

test('nothing answered at all', () => {
  const lines = renderScreen(state([hop(1, null, 100, 3, 0, 0, 0, 0, 0)]));
  assert.equal(silentLine(lines), 'The destination 198.18.4.2 has not answered; no hop has answered.');
});
