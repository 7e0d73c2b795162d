// The engine driven without the kernel: a scripted transport with the native
// addon's shape answers every echo request the way a made-up path would
// (routers at TTL 1 and 2, the destination from TTL 3), at RTTs the script
// chooses. A whole trace then runs through the real engine, registry,
// decoder and statistics, and reports exactly the scripted figures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { echoProbe, rawEchoReply, rawTimeExceeded } from '../../lab/packets.js';
import type { NativeMessage, NativeProbe } from '../../src/native.js';
import { ProbeEngine } from '../../src/probe/engine.js';
import { Trace } from '../../src/trace/trace.js';

const DST = '198.18.5.5';
const router = (ttl: number): string => `198.18.0.${10 + ttl}`;
/** The scripted round trip at each TTL, ms. */
const rttAt = (ttl: number): number => 10 * ttl + 0.25;

const nowNs = (): number => Number(process.hrtime.bigint());

/**
 * The addon's shape, no sockets: sends are answered by the script, losses too.
 * `sendDelayMs`: the packet leaves that long after the userland send time (a
 * thread preempted between reading the clock and the send call); answers are
 * timed from when it left. `stamps`: the kernel's send stamp comes in the
 * answer's batch, ahead of it, or waits in the sender's queue for a drain.
 */
function scriptedTransport(opts: { loseEvery?: number; sendDelayMs?: number; stamps?: 'batch' | 'drain' } = {}) {
  const callbacks = new Map<number, (msgs: NativeMessage[]) => void>();
  const queued = new Map<number, NativeMessage[]>();
  const sent: { handle: number; ttl: number; id: number; seq: number }[] = [];
  let next = 1;
  const transport: NativeProbe = {
    open(_family, _kind, onMessages) {
      const h = next++;
      callbacks.set(h, onMessages);
      return h;
    },
    close(handle) {
      callbacks.delete(handle);
    },
    bind() {},
    bindDevice() {},
    localAddress: () => ({ addr: '0.0.0.0', port: 4242 }),
    send(handle, packet, addr, _port, ttl, _tos, stampId) {
      const txNs = nowNs();
      const leftNs = txNs + (opts.sendDelayMs ?? 0) * 1e6;
      const stamped = opts.stamps !== undefined;
      // Raw ICMPv4 sockets send the ICMP message; id and sequence are bytes 4-7.
      const id = packet.readUInt16BE(4);
      const seq = packet.readUInt16BE(6);
      sent.push({ handle, ttl, id, seq });
      const stamp: NativeMessage[] = stamped ? [{ kind: 'tx-stamp', id: stampId, txNs: leftNs }] : [];
      if (opts.stamps === 'drain') queued.set(handle, [...(queued.get(handle) ?? []), ...stamp]);
      if (opts.loseEvery && sent.length % opts.loseEvery === 0) return { txNs, stamped };
      const reply =
        ttl >= 3 ? rawEchoReply(4, addr, id, seq) : rawTimeExceeded(4, router(ttl), echoProbe(4, addr, id, seq, ttl));
      const deliver = callbacks.get(handle);
      const answer: NativeMessage = { ...reply, rxNs: leftNs + rttAt(Math.min(ttl, 3)) * 1e6, kernelTime: true };
      setImmediate(() => deliver?.([...(opts.stamps === 'batch' ? stamp : []), answer]));
      return { txNs, stamped };
    },
    connect: () => {
      throw new Error('no TCP in this script');
    },
    drain: (handle) => {
      const waiting = queued.get(handle) ?? [];
      queued.delete(handle);
      return waiting;
    },
    setIcmpFilter() {},
    setReceiveBuffer() {},
    ref() {},
    routeSource: () => '198.18.0.2',
    now: nowNs,
    clockOffset: () => 0,
    adopt: () => {
      throw new Error('no inherited sockets here');
    },
    fd: () => -1,
  };
  return { transport, sent };
}

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
