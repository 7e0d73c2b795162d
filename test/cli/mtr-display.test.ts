// mtr lets the last display option choose the output (-Cw is a wide report,
// -wC is CSV); commander keeps only values, so vpsline reads argv's order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProgram } from '../../src/cli/main.js';
import { displayOrder, mtrRun } from '../../src/cli/mtr.js';

const mtr = buildProgram().commands.find((c) => c.name() === 'mtr');
if (!mtr) throw new Error('no mtr command');
const order = (...argv: string[]) => displayOrder(mtr, argv);

describe('the last display option wins', () => {
  it('reads short clusters, long options and values in argv order', () => {
    assert.deepEqual(order('-Cw', '198.18.0.1'), ['csv', 'reportWide']);
    assert.deepEqual(order('-wC', '198.18.0.1'), ['reportWide', 'csv']);
    assert.deepEqual(order('-r', '--json', '-c', '5'), ['report', 'json']);
    // -c takes a value: the rest of the cluster, or the next word, is that value, not options.
    assert.deepEqual(order('-c5x', '-j'), ['json']);
    assert.deepEqual(order('-c', '-x', '-r'), ['report']);
    assert.deepEqual(order('--report-cycles=3', '-x'), ['xml']);
    assert.deepEqual(order('-rn', '--', '-x'), ['report']);
  });

  it('turns the order into the output mtr would print', () => {
    const flags = {
      reportCycles: 10,
      interval: 1,
      dns: true,
      firstTtl: 1,
      maxTtl: 30,
      psize: 64,
      tos: 0,
      timeout: 2,
      maxUnknown: 12,
      lang: 'en' as const,
      csv: true,
      reportWide: true,
    };
    assert.equal(mtrRun('198.18.0.1', flags, false, ['csv', 'reportWide']).output, 'report');
    assert.equal(mtrRun('198.18.0.1', flags, false, ['csv', 'reportWide']).wide, true);
    assert.equal(mtrRun('198.18.0.1', flags, false, ['reportWide', 'csv']).output, 'csv');
    assert.equal(mtrRun('198.18.0.1', { ...flags, json: true }, false, ['json', 'xml']).output, 'xml');
  });
});
