// The analysis on simulated paths the property tests generate in the
// abstract: a silent destination behind a lossy link, a jittery link, a
// steady long link, and a path where nothing answers. The lab knows each
// path's truth (lab/scenarios/analysis-paths.yaml); the trace is real.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labSkipReason } from '../../lab/netns.js';
import { runAgent } from '../../lab/run-agent.js';
import { analyzeReport } from '../../src/trace/analysis.js';
import type { AgentResult } from '../../lab/agent-types.js';
import { checkFindings } from '../property/findings.js';
import { useSimulatedPath } from './suite.js';

const skip = labSkipReason();

describe('analysis of simulated paths: silence and jitter', { skip }, () => {
  const path = useSimulatedPath('analysis-paths');
  type Report = AgentResult['report'];

  async function trace(target: string): Promise<Report> {
    const r = await runAgent(path.lab, path.sim.ns, {
      target,
      trace: { protocol: 'icmp', icmpSocket: 'raw', cycles: 40, interval: 0.025, timeout: 0.5 },
    });
    return r.report;
  }

  function read(r: Report) {
    const f = analyzeReport(r);
    checkFindings(r, f);
    return { f, codes: f.map((x) => x.code), text: f.map((x) => x.message).join('\n') };
  }

  test('a silent destination behind a lossy link: loss to the last answering hop, and the silence said', async () => {
    const r = await trace('198.18.210.1');
    assert.equal(r.destinationTtl, null);
    const { f, codes, text } = read(r);
    assert.deepEqual(codes, ['path-loss', 'destination-silent'], text);
    assert.equal(f[0]?.params.ttl, 2, text);
    assert.equal(f[0]?.params.last, 3, text);
    assert.deepEqual(f[1]?.hops, [3, 4], text);
    assert.match(f[1]?.message ?? '', /^The destination 198\.18\.210\.1 did not answer .*hop 3 \(198\.18\.213\.1\)/);
  });

  test('a 40 +- 30 ms link is jitter from hop 3, not a latency rise', async () => {
    const { f, codes, text } = read(await trace('198.18.220.1'));
    assert.ok(!codes.includes('latency-jump'), text);
    const j = f.find((x) => x.code === 'jitter');
    assert.equal(j?.params.ttl, 3, text);
    assert.deepEqual(j?.hops, [2, 3, 4, 5], text);
  });

  test('a steady 150 ms link is a latency rise at hop 3, without jitter', async () => {
    const { f, codes, text } = read(await trace('198.18.230.1'));
    assert.deepEqual(codes, ['latency-jump'], text);
    assert.equal(f[0]?.params.ttl, 3);
    assert.ok(Math.abs(Number(f[0]?.params.rise) - 148) < 6, text);
  });

  test('nothing answers: the destination did not, nor did any hop', async () => {
    const r = await trace('198.18.240.1');
    const { f, codes, text } = read(r);
    assert.deepEqual(codes, ['destination-silent'], text);
    assert.match(f[0]?.message ?? '', /did not answer, and neither did any hop on the way/);
    assert.deepEqual(
      f[0]?.hops,
      r.hops.map((h) => h.ttl),
    );
  });
});
