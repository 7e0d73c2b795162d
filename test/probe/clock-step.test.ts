// A wall-clock step while a probe is out must void its RTT rather than report
// nonsense. Loopback only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProbeEngine } from '../../src/probe/engine.js';

test('a clock step voids the RTT of probes in flight, and only theirs', async () => {
  let offset = 0;
  const engine = new ProbeEngine({ clockOffset: () => offset });
  engine.prepare(4, 'udp');
  await engine.ready();
  const request = { family: 4 as const, protocol: 'udp' as const, dst: '127.0.0.1', ttl: 64, timeoutMs: 1000 };
  const normal = await engine.probe(request);
  assert.equal(normal.status, 'reply');
  assert.ok(normal.rttMs !== null && normal.rttMs >= 0);

  const stepped = engine.probe(request);
  offset = 3_600e9; // the wall clock jumps an hour while the probe is out
  const r = await stepped;
  assert.equal(r.status, 'reply', 'the reply still counts as received');
  assert.equal(r.rttMs, null, 'but its RTT is not trusted');
  assert.equal(r.clockStepped, true);
  assert.equal(engine.counters.clockSteps, 1);

  const after = await engine.probe(request);
  assert.ok(after.rttMs !== null && !after.clockStepped, 'probes sent after the step are timed normally');
  engine.close();
});
