// The simulator's path logic on its own (no namespaces, no root needed).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeIcmp, decodeQuotedProbe } from '../../src/packet/icmp.js';
import { decodeIp } from '../../src/packet/ip.js';
import { decodeTcp, TCP_ACK, TCP_RST, TCP_SYN } from '../../src/packet/transport.js';
import { echoProbe, tcpProbe, udpProbe } from '../../lab/packets.js';
import { findTruth, PathSimulator, type ProbeTruth, probeIdentity, truthRttMs } from '../../lab/sim/path.js';
import { loadNamedScenario, parseScenario } from '../../lab/sim/scenario.js';

const features = loadNamedScenario('features');
const twenty = loadNamedScenario('twenty-ms');

function answer(sim: PathSimulator, probe: Buffer, at = 0) {
  const out = sim.handle(probe, at);
  assert.ok(out.length <= 1);
  if (!out.length) return undefined;
  const ip = decodeIp(out[0]!.packet, 0);
  assert.ok(ip.ok);
  return { at: out[0]!.atNs, ip: ip.value, packet: out[0]!.packet };
}

describe('PathSimulator', () => {
  test('each TTL is answered by its hop, after the sum of the link delays', () => {
    const sim = new PathSimulator(twenty);
    const expected = ['198.18.100.1', '198.18.101.1', '198.18.102.1', '198.18.103.1', '198.18.200.1'];
    expected.forEach((addr, i) => {
      const probe = echoProbe(4, '198.18.200.1', 1, i, i + 1);
      const a = answer(sim, probe, 1e9)!;
      assert.equal(a.ip.src, addr);
      assert.equal(a.at, 1e9 + (i >= 1 ? 20e6 : 0));
      const icmp = decodeIcmp(a.packet, a.ip.payloadOffset, 4);
      assert.ok(icmp.ok);
      assert.equal(icmp.value.kind, i < 4 ? 'time-exceeded' : 'echo-reply');
    });
  });

  test('ECMP by flow: one flow keeps one router, different flows spread', () => {
    const sim = new PathSimulator(features);
    const seen = new Set<string>();
    for (let port = 0; port < 64; port++) {
      const a = answer(sim, udpProbe(4, '198.18.210.1', 40000, 33434 + port, 2))!;
      seen.add(a.ip.src);
      assert.equal(answer(sim, udpProbe(4, '198.18.210.1', 40000, 33434 + port, 2))!.ip.src, a.ip.src);
    }
    assert.deepEqual([...seen].sort(), ['198.18.111.1', '198.18.111.2']);
  });

  test('MPLS labels, silent hop, 8-byte quote, rate limit', () => {
    const sim = new PathSimulator(features);
    const mpls = answer(sim, echoProbe(6, '2001:2:0:210::1', 1, 1, 3))!;
    const m = decodeIcmp(mpls.packet, mpls.ip.payloadOffset, 6);
    assert.ok(m.ok);
    assert.deepEqual(
      m.value.mpls?.map((l) => l.label),
      [24005, 16],
    );
    assert.equal(answer(sim, echoProbe(4, '198.18.210.1', 1, 2, 4)), undefined);
    assert.equal(sim.counters.silent, 1);
    const short = answer(sim, echoProbe(4, '198.18.210.1', 1, 3, 5))!;
    assert.equal(short.packet.length, 20 + 8 + 20 + 8, 'IP + ICMP + quoted IP header + 8 bytes');
    const q = decodeIcmp(short.packet, short.ip.payloadOffset, 4);
    assert.ok(q.ok);
    const quoted = decodeQuotedProbe(short.packet, q.value.quotedOffset!, q.value.quotedEnd!);
    assert.ok(quoted.ok);
    assert.equal(quoted.value.icmpSeq, 3);
    const answered = [0, 1, 2, 3, 4].filter((i) => answer(sim, echoProbe(4, '198.18.210.1', 1, 10 + i, 6), i * 1e6));
    assert.equal(answered.length, 2, 'burst of 2, then nothing within 5 ms at 2 per second');
    assert.ok(answer(sim, echoProbe(4, '198.18.210.1', 1, 20, 6), 1.1e9), 'tokens come back with time');
  });

  test('net unreachable ends the path at that router, whatever the TTL', () => {
    const sim = new PathSimulator(features);
    assert.equal(answer(sim, echoProbe(4, '198.18.220.1', 1, 1, 1))!.ip.src, '198.18.120.1');
    for (const ttl of [2, 3, 30]) {
      const a = answer(sim, echoProbe(4, '198.18.220.1', 1, ttl, ttl))!;
      assert.equal(a.ip.src, '198.18.121.1');
      const m = decodeIcmp(a.packet, a.ip.payloadOffset, 4);
      assert.ok(m.ok);
      assert.deepEqual([m.value.kind, m.value.code], ['unreachable', 0]);
    }
  });

  test('destination: echo reply, port unreachable, SYN-ACK or RST', () => {
    const sim = new PathSimulator(features);
    const udp = answer(sim, udpProbe(6, '2001:2:0:210::1', 40000, 33434, 30))!;
    const u = decodeIcmp(udp.packet, udp.ip.payloadOffset, 6);
    assert.ok(u.ok);
    assert.deepEqual([u.value.kind, u.value.code], ['unreachable', 4]);
    const sa = answer(sim, tcpProbe(4, '198.18.210.1', 50000, 443, 30))!;
    const t = decodeTcp(sa.packet, sa.ip.payloadOffset);
    assert.ok(t.ok);
    assert.equal(t.value.flags, TCP_SYN | TCP_ACK);
    assert.equal(t.value.ack, 12346);
    const rst = parseScenario('paths: [{ target: { v4: 198.18.230.1 }, hops: [], destination: { tcp: rst } }]');
    const r = answer(new PathSimulator(rst), tcpProbe(4, '198.18.230.1', 50000, 80))!;
    const rt = decodeTcp(r.packet, r.ip.payloadOffset);
    assert.ok(rt.ok);
    assert.equal(rt.value.flags, TCP_RST | TCP_ACK);
  });

  test('packets for addresses outside the scenario are ignored', () => {
    const sim = new PathSimulator(twenty);
    assert.equal(answer(sim, echoProbe(4, '198.18.99.99', 1, 1, 1)), undefined);
    assert.equal(sim.counters.ignored, 1);
  });

  test('scenario mistakes are explained', () => {
    assert.throws(() => parseScenario('paths: [{ target: {}, hops: [] }]'), /target needs v4 or v6/);
    assert.throws(
      () => parseScenario('paths: [{ target: { v4: 198.18.1.1 }, hops: [{ v4: 198.18.2.1, delay: fast }] }]'),
      /not a duration/,
    );
    assert.throws(
      () => parseScenario('paths: [{ target: { v4: 198.18.1.1 }, hops: [{ delay: 1ms }] }]'),
      /needs a v4 or v6 address/,
    );
    assert.throws(
      () => parseScenario('paths: [{ target: { v4: 198.18.1.1 }, hops: [{ v4: 198.18.2.1, loss: 150% }] }]'),
      /not a share/,
    );
  });
});

describe('PathSimulator loss and jitter', () => {
  const scenario = parseScenario(`
paths:
  - target: { v4: 198.18.240.1 }
    hops:
      - { v4: 198.18.140.1, delay: 10ms, jitter: 2ms, loss: 25% }
`);
  test('forward loss at the configured rate; jitter uniform within +-2 ms of 10 ms', () => {
    const sim = new PathSimulator(scenario, 7);
    const delays: number[] = [];
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const out = sim.handle(echoProbe(4, '198.18.240.1', 1, i & 0xffff, 1), 0);
      if (out.length) delays.push(out[0]!.atNs / 1e6);
    }
    const lossRate = 1 - delays.length / n;
    assert.ok(Math.abs(lossRate - 0.25) < 0.015, `loss ${lossRate}`);
    assert.ok(
      delays.every((d) => d >= 8 && d <= 12),
      'within 10 +- 2 ms',
    );
    const mean = delays.reduce((a, b) => a + b) / delays.length;
    assert.ok(Math.abs(mean - 10) < 0.05, `mean ${mean}`);
    const sd = Math.sqrt(delays.reduce((a, b) => a + (b - mean) ** 2, 0) / delays.length);
    assert.ok(Math.abs(sd - 2 / Math.sqrt(3)) < 0.05, `uniform sd ${sd}`);
  });
});

describe('probe identities and the truth', () => {
  test('a probe is known by what a tracer keys it by: ICMP id and sequence, UDP and TCP ports', () => {
    assert.deepEqual(probeIdentity(echoProbe(6, '2001:2:0:200::1', 77, 33001, 3)), {
      family: 6,
      protocol: 'icmp',
      src: '2001:2::2',
      dst: '2001:2:0:200::1',
      ttl: 3,
      icmpId: 77,
      icmpSeq: 33001,
    });
    const udp = probeIdentity(udpProbe(4, '198.18.200.1', 40000, 33440, 5));
    assert.deepEqual([udp?.protocol, udp?.ttl, udp?.srcPort, udp?.dstPort], ['udp', 5, 40000, 33440]);
    const tcp = probeIdentity(tcpProbe(4, '198.18.200.1', 50001, 443));
    assert.deepEqual([tcp?.protocol, tcp?.srcPort, tcp?.dstPort], ['tcp', 50001, 443]);
    assert.equal(probeIdentity(Buffer.from([0x45])), undefined);
  });

  test('findTruth matches protocol, TTL and key, and refuses an ambiguous match', () => {
    const at = (ttl: number, seq: number, arrivalNs: number): ProbeTruth => ({
      family: 4,
      protocol: 'icmp',
      src: '198.18.0.2',
      dst: '198.18.200.1',
      ttl,
      icmpId: 1,
      icmpSeq: seq,
      arrivalNs,
      emittedNs: arrivalNs + 20e6,
    });
    const truth = [at(1, 10, 0), at(2, 11, 1e6), at(2, 12, 2e6)];
    assert.equal(findTruth(truth, { protocol: 'icmp', ttl: 2, key: 12 }), truth[2]);
    assert.equal(findTruth(truth, { protocol: 'icmp', ttl: 1, key: 12 }), undefined);
    assert.equal(findTruth(truth, { protocol: 'udp', ttl: 2, key: 12 }), undefined);
    assert.equal(findTruth([...truth, at(2, 12, 3e6)], { protocol: 'icmp', ttl: 2, key: 12 }), undefined);
    assert.equal(truthRttMs(truth[1] ?? at(0, 0, 0)), 20);
    const { emittedNs: _, ...unanswered } = at(1, 1, 0);
    assert.equal(truthRttMs(unanswered), undefined);
  });
});
