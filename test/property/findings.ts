// The check behind every analysis property: each finding cites hops the
// report has, and those hops show what the finding says.
import assert from 'node:assert/strict';
import type { Finding } from '../../src/trace/analysis.js';
import type { HopSnapshot } from '../../src/trace/hop.js';
import type { TraceReport } from '../../src/trace/trace.js';

/** What each finding claims about the hops it cites, checked against them. */
export function checkFindings(r: Pick<TraceReport, 'hops' | 'destinationTtl' | 'target'>, findings: Finding[]): void {
  const byTtl = new Map(r.hops.map((h) => [h.ttl, h]));
  const hop = (ttl: unknown): HopSnapshot => {
    const h = typeof ttl === 'number' ? byTtl.get(ttl) : undefined;
    assert.ok(h, `cites hop ${String(ttl)}, which the report does not have`);
    return h;
  };
  const answers = (ttl: unknown): boolean => hop(ttl).received > 0;
  const settled = r.hops.filter((h) => h.received + h.lost > 0);
  const lastAnswer = settled.filter((h) => h.received > 0).at(-1);
  for (const f of findings) {
    const where = `${f.code} ${JSON.stringify(f.hops)}: ${f.message}`;
    assert.ok(f.hops.length > 0, `${where}: no hops cited`);
    for (const t of f.hops) hop(t);
    assert.deepEqual(
      f.hops,
      [...f.hops].sort((a, b) => a - b),
      `${where}: hops out of order`,
    );
    assert.equal(new Set(f.hops).size, f.hops.length, `${where}: a hop cited twice`);
    assert.ok(f.message.length > 0);
    assert.doesNotMatch(f.message, /NaN|undefined|Infinity|\[object|hop 0\b|第 0 跳/, where);
    for (const [k, v] of Object.entries(f.params))
      assert.ok(typeof v === 'string' || Number.isFinite(v), `${where}: param ${k} = ${v}`);
    // Every TTL a message names is one it cites.
    for (const k of ['ttl', 'next', 'prev', 'last', 'end'])
      if (f.params[k] !== undefined) assert.ok(f.hops.includes(Number(f.params[k])), `${where}: ${k} not cited`);
    const [a, b] = f.hops;
    switch (f.code) {
      case 'hop-ignores-icmp':
        assert.ok(!answers(a) && answers(b) && hop(a).received + hop(a).lost > 0, where);
        break;
      case 'icmp-rate-limited':
        assert.ok(answers(a) && answers(b) && hop(b).lossPercent < hop(a).lossPercent, where);
        break;
      case 'path-loss':
        assert.ok(f.hops.every(answers), where);
        assert.ok(hop(f.params.ttl).lost > 0, where);
        break;
      case 'slow-responder':
        assert.ok(answers(a) && answers(b) && hop(a).stats.best > hop(b).stats.best, where);
        break;
      case 'latency-jump':
        assert.ok(f.hops.every(answers), where);
        assert.ok(hop(f.params.ttl).stats.best > hop(f.params.prev).stats.best, where);
        break;
      case 'jitter':
        assert.ok(f.hops.every(answers), where);
        for (const t of f.hops.filter((x) => x !== f.params.prev)) assert.ok(hop(t).stats.stdev >= 5, where);
        break;
      case 'destination-unreachable':
        assert.ok(hop(a).unreachable, where);
        break;
      case 'destination-silent':
        assert.equal(r.destinationTtl, null, where);
        if (lastAnswer) assert.equal(a, lastAnswer.ttl, `${where}: not the last hop that answered`);
        for (const t of lastAnswer ? f.hops.slice(1) : f.hops) assert.ok(!answers(t), `${where}: ${t} answered`);
        assert.ok(f.message.includes(r.target), where);
        break;
      case 'clean':
        assert.ok(f.hops.every(answers), where);
        break;
    }
  }
  const codes = findings.map((f) => f.code);
  // Nothing settled yet (a live view's first moment): nothing to say.
  if (settled.length === 0) assert.deepEqual(codes, []);
  else if (lastAnswer)
    assert.equal(codes.includes('clean'), !findings.some((f) => f.severity !== 'info'), codes.join());
  else assert.ok(!codes.includes('clean'), 'clean with no hop answering');
}
