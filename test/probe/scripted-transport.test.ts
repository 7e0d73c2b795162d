// The engine driven without the kernel: a scripted transport with the native
// addon's shape answers every echo request the way a made-up path would
// (routers at TTL 1 and 2, the destination from TTL 3), at RTTs the script
// chooses. A whole trace then runs through the real engine, registry,
// decoder and statistics, and reports exactly the scripted figures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProbeEngine } from '../../src/probe/engine.js';
import { Trace } from '../../src/trace/trace.js';
import { DST, rttAt, router, scriptedTransport } from '../support/scripted-transport.js';

describe('ProbeEngine with a scripted transport', () => {
  it('a trace reports the scripted path, hop by hop, to the microsecond', async () => {
    const { transport, sent } = scriptedTransport();
    const engine = new ProbeEngine({ transport });
    const t = new Trace(DST, { engine, protocol: 'icmp', icmpSocket: 'raw', cycles: 3, interval: 0.01, timeout: 1 });
    await t.start();
    const report = await t.done;
    assert.deepEqual(
      report.hops.map((h) => h.address),
      [router(1), router(2), DST],
    );
    assert.equal(report.destinationTtl, 3);
    for (const h of report.hops) {
      assert.equal(h.received, 3, `hop ${h.ttl}`);
      assert.ok(Math.abs(h.stats.mean - rttAt(h.ttl)) < 1e-3, `hop ${h.ttl}: ${h.stats.mean} ms`);
      assert.ok(Math.abs(h.stats.best - rttAt(h.ttl)) < 1e-3);
    }
    // Like mtr: nothing is sent past the destination's TTL.
    assert.ok(Math.max(...sent.map((s) => s.ttl)) <= 3, `TTLs sent: ${sent.map((s) => s.ttl).join(',')}`);
    assert.equal(sent.length, 9);
  });

  it('a probe the script never answers is lost at the timeout, by the engine clock', async () => {
    const { transport } = scriptedTransport({ loseEvery: 2 });
    const engine = new ProbeEngine({ transport });
    const r = await engine.probe({ family: 4, protocol: 'icmp', dst: DST, ttl: 64, timeoutMs: 50 });
    assert.equal(r.status, 'reply');
    assert.ok(r.rttMs !== null && r.rttMs !== undefined && Math.abs(r.rttMs - rttAt(3)) < 1e-3);
    const lost = await engine.probe({ family: 4, protocol: 'icmp', dst: DST, ttl: 64, timeoutMs: 50 });
    assert.equal(lost.status, 'timeout');
  });

  for (const stamps of ['batch', 'drain'] as const) {
    it(`a send delayed 3 ms after its clock read is timed from the kernel's send stamp (${stamps})`, async () => {
      const { transport } = scriptedTransport({ sendDelayMs: 3, stamps });
      const engine = new ProbeEngine({ transport });
      const r = await engine.probe({ family: 4, protocol: 'icmp', dst: DST, ttl: 64, timeoutMs: 1000 });
      assert.equal(r.status, 'reply');
      assert.equal(r.kernelSendTime, true);
      assert.ok(r.rttMs !== null && Math.abs(r.rttMs - rttAt(3)) < 1e-3, `${r.rttMs} ms, not ${rttAt(3)} ms`);
      assert.equal(engine.counters.kernelSendStamps, 1);
    });
  }

  it('without kernel send stamps the delay is in the RTT (the control for the tests above)', async () => {
    const { transport } = scriptedTransport({ sendDelayMs: 3 });
    const engine = new ProbeEngine({ transport });
    const r = await engine.probe({ family: 4, protocol: 'icmp', dst: DST, ttl: 64, timeoutMs: 1000 });
    assert.equal(r.kernelSendTime, undefined);
    assert.ok(r.rttMs !== null && Math.abs(r.rttMs - (rttAt(3) + 3)) < 0.5, `${r.rttMs} ms`);
    assert.equal(engine.counters.kernelSendStamps, 0);
  });
});
