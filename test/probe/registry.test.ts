import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeEcho } from '../../src/packet/icmp.js';
import { ProbeRegistry, type RegisteredProbe } from '../../src/probe/registry.js';
import { echoProbe, errqueueMessage, rawEchoReply, rawTimeExceeded, tcpProbe, udpProbe } from '../../lab/packets.js';

const RAW4 = { handle: 1, kind: 'raw' as const, family: 4 as const, icmpId: 0x1111 };
const RAW6 = { handle: 2, kind: 'raw' as const, family: 6 as const, icmpId: 0x1111 };
const UDP4 = { handle: 3, kind: 'udp' as const, family: 4 as const };
const PING6 = { handle: 4, kind: 'ping' as const, family: 6 as const, icmpId: 777 };

describe('ProbeRegistry', () => {
  test('allocates distinct identities per destination and skips ones in flight', () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    const keys = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const key = r.allocate('udp-port', '198.18.9.9');
      assert.ok(key >= 33434 && key < 33434 + 8192);
      assert.ok(!keys.has(key));
      keys.add(key);
      r.add({ identity: { by: 'udp-port', dst: '198.18.9.9', port: key }, socket: 3 });
    }
    assert.throws(() => r.allocate('udp-port', '198.18.9.9', [...keys][0]), /still in flight/);
  });

  test("UDP probes never go to the sending socket's own port (a local target would deliver them to it)", () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    const own = 33434 + 4000;
    for (let i = 0; i < 3 * 8192; i++) assert.notEqual(r.allocate('udp-port', '127.0.0.1', undefined, own), own);
  });

  test('a raw-socket echo reply matches only with our identifier and destination', () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    const probe: RegisteredProbe = { identity: { by: 'icmp-seq', dst: '198.18.9.9', seq: 500 }, socket: RAW4.handle };
    r.add(probe);
    assert.equal(r.match(RAW4, rawEchoReply(4, '198.18.9.9', 0x2222, 500)), undefined, 'other tracer');
    assert.equal(r.match(RAW4, rawEchoReply(4, '198.18.9.8', 0x1111, 500)), undefined, 'other destination');
    assert.equal(
      r.match({ ...RAW4, handle: 9 }, rawEchoReply(4, '198.18.9.9', 0x1111, 500)),
      undefined,
      'other socket',
    );
    const m = r.match(RAW4, rawEchoReply(4, '198.18.9.9', 0x1111, 500));
    assert.equal(m?.probe, probe);
    assert.equal(m?.reply.kind, 'echo-reply');
    assert.equal(r.counters.foreign, 3);
  });

  test('time exceeded on raw v6 with MPLS carries the labels and the router', () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    r.add({ identity: { by: 'icmp-seq', dst: '2001:2:0:9::9', seq: 42 }, socket: RAW6.handle });
    const labels = [{ label: 3001, tc: 0, s: 1, ttl: 1 }];
    const m = r.match(RAW6, rawTimeExceeded(6, '2001:2:0:1::1', echoProbe(6, '2001:2:0:9::9', 0x1111, 42), labels));
    assert.equal(m?.reply.kind, 'time-exceeded');
    assert.equal(m?.reply.from, '2001:2:0:1::1');
    assert.deepEqual(m?.reply.mpls, labels);
  });

  test('UDP error queue: the original destination port is the identity', () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    r.add({ identity: { by: 'udp-port', dst: '198.18.9.9', port: 33500 }, socket: UDP4.handle });
    const te = r.match(UDP4, errqueueMessage(4, '198.18.9.9', 33500, '198.18.1.1', Buffer.alloc(36)));
    assert.equal(te?.reply.kind, 'time-exceeded');
    assert.equal(te?.reply.from, '198.18.1.1');
    assert.equal(r.match(UDP4, errqueueMessage(4, '198.18.9.9', 33501, '198.18.1.1', Buffer.alloc(36))), undefined);
  });

  test('ping socket error queue: the quoted echo sequence is the identity', () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    r.add({ identity: { by: 'icmp-seq', dst: '2001:2:0:9::9', seq: 9 }, socket: PING6.handle });
    const quoted = encodeEcho(6, false, { id: 777, seq: 9 });
    const m = r.match(PING6, errqueueMessage(6, '2001:2:0:9::9', 0, '2001:2:0:1::1', quoted));
    assert.equal(m?.reply.from, '2001:2:0:1::1');
    const unreachable = r.match(PING6, errqueueMessage(6, '2001:2:0:9::9', 0, '2001:2:0:1::1', quoted, 1, 3));
    assert.equal(unreachable?.reply.unreachable, 'host');
  });

  test('TCP error queue quotes the source port', () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    const TCP4 = { handle: 7, kind: 'tcp' as const, family: 4 as const };
    r.add({ identity: { by: 'tcp-port', dst: '198.18.9.9', port: 50123 }, socket: 7 });
    const quoted = tcpProbe(4, '198.18.9.9', 50123, 443).subarray(20, 28);
    const m = r.match(TCP4, errqueueMessage(4, '198.18.9.9', 443, '198.18.2.1', quoted));
    assert.equal(m?.reply.kind, 'time-exceeded');
  });

  test("a constant-flow answer matches by checksum only on the flow's own ports", () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    const probe = udpProbe(4, '198.18.9.9', 40000, 33434);
    const checksum = probe.readUInt16BE(20 + 6); // IPv4 header, then the UDP checksum
    const answer = rawTimeExceeded(4, '198.18.1.1', probe);
    // The same checksum from other ports (another flow, or another program) is not ours.
    const other = {
      by: 'udp-checksum',
      dst: '198.18.9.9',
      checksum,
      flow: { srcPort: 41000, dstPort: 33434 },
    } as const;
    r.add({ identity: other, socket: RAW4.handle });
    assert.equal(r.match(RAW4, answer), undefined);
    assert.equal(r.counters.foreign, 1);
    const mine = { ...other, flow: { srcPort: 40000, dstPort: 33434 } };
    const r2 = new ProbeRegistry<RegisteredProbe>();
    r2.add({ identity: mine, socket: RAW4.handle });
    assert.equal(r2.match(RAW4, answer)?.reply.kind, 'time-exceeded');
  });

  test('garbage is counted by reason, never thrown', () => {
    const r = new ProbeRegistry<RegisteredProbe>();
    const packet = { kind: 'packet', data: Buffer.alloc(3), truncated: false, rxNs: 0, kernelTime: true } as const;
    assert.equal(r.match(RAW4, packet), undefined);
    // An error-queue message without the kernel's extended error.
    const bare = { kind: 'error-queue', data: Buffer.alloc(0), truncated: false, rxNs: 0, kernelTime: true } as const;
    assert.equal(r.match(UDP4, bare), undefined);
    assert.equal(r.counters.truncated, 1);
    assert.equal(r.counters.malformed, 1);
  });
});

test('a second live probe with the same identity is refused, never silently replaces the first', () => {
  const r = new ProbeRegistry<RegisteredProbe>();
  r.add({ identity: { by: 'tcp-socket', dst: '198.18.9.9', handle: 7 }, socket: 7 });
  assert.throws(
    () => r.add({ identity: { by: 'tcp-socket', dst: '198.18.9.9', handle: 7 }, socket: 8 }),
    /two probes in flight with one identity/,
  );
});
