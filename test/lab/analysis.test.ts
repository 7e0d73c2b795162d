// The analysis on scripted paths, traced for real: rate-limited middle hops,
// a silent hop, real loss from one hop onward, a lasting latency rise.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzeReport, type Finding } from '../../src/trace/analysis.js';
import { labSkipReason } from '../../lab/netns.js';
import { runAgent } from '../../lab/run-agent.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();

describe('analysis of traced paths', { skip }, () => {
  const path = useSimulatedPath('analysis');

  async function findings(target: string): Promise<Finding[]> {
    const r = await runAgent(path.lab, path.sim.ns, {
      target,
      trace: { protocol: 'icmp', icmpSocket: 'raw', cycles: 40, interval: 0.025, timeout: 0.5 },
    });
    return analyzeReport(r.report);
  }
  const byCode = (f: Finding[], code: Finding['code']): Finding[] => f.filter((x) => x.code === code);

  test('rate-limited middle hops are not path loss', async () => {
    const f = await findings('198.18.201.1');
    assert.deepEqual(
      byCode(f, 'icmp-rate-limited').map((x) => x.hops[0]),
      [2, 3],
      JSON.stringify(f),
    );
    assert.equal(byCode(f, 'path-loss').length, 0);
    assert.equal(byCode(f, 'clean').length, 1);
  });

  test('a silent hop disallows ping; it is not loss', async () => {
    const f = await findings('198.18.202.1');
    assert.deepEqual(
      byCode(f, 'hop-ignores-icmp').map((x) => x.hops),
      [[2, 3]],
    );
    assert.equal(byCode(f, 'path-loss').length, 0);
  });

  test('real loss from hop 3 onward is found where it starts', async () => {
    const f = await findings('198.18.203.1');
    const loss = byCode(f, 'path-loss');
    assert.equal(loss.length, 1, JSON.stringify(f));
    assert.equal(loss[0]!.params.ttl, 3);
    assert.deepEqual(loss[0]!.hops, [2, 3, 4, 5]);
    assert.equal(byCode(f, 'icmp-rate-limited').length, 0);
  });

  test('a lasting latency rise at hop 4, and a slow responder at hop 2 that is not one', async () => {
    const f = await findings('198.18.204.1');
    const jump = byCode(f, 'latency-jump');
    assert.equal(jump.length, 1, JSON.stringify(f));
    assert.equal(jump[0]!.params.ttl, 4);
    assert.ok(Math.abs(Number(jump[0]!.params.rise) - 40) < 2, `rise ${jump[0]!.params.rise}`);
    const slow = byCode(f, 'slow-responder');
    assert.deepEqual(
      slow.map((x) => x.params.ttl),
      [2],
    );
  });
});
