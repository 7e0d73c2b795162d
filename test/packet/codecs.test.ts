import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressBytes } from '../../src/packet/address.js';
import { internetChecksum } from '../../src/packet/checksum.js';
import {
  decodeIcmp,
  decodeQuotedProbe,
  encodeEcho,
  encodeIcmpError,
  ICMP4,
  ICMP6,
  unreachableReason,
  type MplsLabel,
} from '../../src/packet/icmp.js';
import {
  decodeIPv4,
  decodeIPv6,
  encodeIp,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../../src/packet/ip.js';
import { decodeTcp, encodeTcp, encodeUdp, TCP_SYN } from '../../src/packet/transport.js';

const ep4 = { family: 4 as const, src: addressBytes('198.18.0.2', 4), dst: addressBytes('198.18.200.1', 4) };
const ep6 = { family: 6 as const, src: addressBytes('2001:2::2', 6), dst: addressBytes('2001:2:0:200::1', 6) };

describe('checksum', () => {
  test('RFC 1071 example sums to the documented value', () => {
    // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement of it is 220d).
    const buf = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    assert.equal(internetChecksum(buf), 0x220d);
  });
  test('a packet carrying its checksum sums to zero', () => {
    const pkt = encodeEcho(4, false, { id: 0x1234, seq: 7, payload: new Uint8Array(37).fill(0xab) });
    assert.equal(internetChecksum(pkt), 0);
  });
  test('odd lengths pad with a zero byte', () => {
    assert.equal(internetChecksum(Uint8Array.from([0xff])), ~0xff00 & 0xffff);
  });
});

describe('IPv4 / IPv6 headers', () => {
  test('IPv4 round trip, with options (IHL 6)', () => {
    const pkt = encodeIp(4, { ...ep4, protocol: IPPROTO_UDP, ttl: 9 }, new Uint8Array(8));
    assert.equal(internetChecksum(pkt, 0, 20), 0);
    const withOptions = Buffer.concat([pkt.subarray(0, 20), Buffer.from([1, 1, 1, 0]), pkt.subarray(20)]);
    withOptions[0] = 0x46;
    withOptions.writeUInt16BE(withOptions.length, 2);
    const h = decodeIPv4(withOptions);
    assert.ok(h.ok);
    assert.equal(h.value.payloadOffset, 24);
    assert.equal(h.value.ttl, 9);
    assert.equal(h.value.src, '198.18.0.2');
    assert.equal(h.value.dst, '198.18.200.1');
  });
  test('IPv6 walks hop-by-hop, routing and fragment extension headers', () => {
    const inner = encodeUdp(ep6, 1000, 33434, new Uint8Array(4));
    const hopByHop = Buffer.from([43, 0, 0, 0, 0, 0, 0, 0]); // next: routing, 8 bytes
    const routing = Buffer.from([44, 0, 0, 0, 0, 0, 0, 0]); // next: fragment
    const fragment = Buffer.from([17, 0, 0, 0, 0, 0, 0, 1]); // next: UDP, offset 0
    const pkt = encodeIp(6, { ...ep6, protocol: 0, ttl: 3 }, Buffer.concat([hopByHop, routing, fragment, inner]));
    const h = decodeIPv6(pkt);
    assert.ok(h.ok);
    assert.equal(h.value.protocol, IPPROTO_UDP);
    assert.equal(h.value.payloadOffset, 40 + 24);
    assert.equal(h.value.src, '2001:2::2');
    assert.equal(h.value.laterFragment, false);
  });
  test('truncated and malformed headers are reasons, not exceptions', () => {
    assert.deepEqual(decodeIPv4(new Uint8Array(10)), { ok: false, reason: 'truncated' });
    const bad = encodeIp(4, { ...ep4, protocol: 1, ttl: 1 }, new Uint8Array(8));
    bad[0] = 0x42; // IHL 2 words < 5
    assert.deepEqual(decodeIPv4(bad), { ok: false, reason: 'malformed' });
    const loop = encodeIp(6, { ...ep6, protocol: 60, ttl: 1 }, Buffer.alloc(200));
    for (let i = 0; i < 20; i++) loop[40 + i * 8] = 60; // endless destination options
    assert.deepEqual(decodeIPv6(loop), { ok: false, reason: 'malformed' });
  });
});

describe('ICMP', () => {
  test('echo request and reply, both families', () => {
    for (const family of [4, 6] as const) {
      const pkt = encodeEcho(family, true, { id: 0xbeef, seq: 0x0102 }, family === 6 ? ep6 : undefined);
      const m = decodeIcmp(pkt, 0, family);
      assert.ok(m.ok);
      assert.equal(m.value.kind, 'echo-reply');
      assert.equal(m.value.id, 0xbeef);
      assert.equal(m.value.seq, 0x0102);
    }
  });
  test('ICMPv6 checksum covers the pseudo-header', () => {
    const pkt = encodeEcho(6, false, { id: 1, seq: 2 }, ep6);
    const pseudo = Buffer.alloc(40);
    pseudo.set(ep6.src, 0);
    pseudo.set(ep6.dst, 16);
    pseudo.writeUInt32BE(pkt.length, 32);
    pseudo[39] = IPPROTO_ICMPV6;
    assert.equal(internetChecksum(Buffer.concat([pseudo, pkt])), 0);
  });

  const probe4 = encodeIp(
    4,
    { ...ep4, protocol: IPPROTO_ICMP, ttl: 1 },
    encodeEcho(4, false, { id: 4242, seq: 77, payload: new Uint8Array(36) }),
  );
  const probe6 = encodeIp(
    6,
    { ...ep6, protocol: IPPROTO_ICMPV6, ttl: 1 },
    encodeEcho(6, false, { id: 4242, seq: 77, payload: new Uint8Array(36) }, ep6),
  );

  test('time exceeded quoting only 8 bytes still identifies the probe', () => {
    for (const [family, probe, type] of [
      [4, probe4, ICMP4.timeExceeded],
      [6, probe6, ICMP6.timeExceeded],
    ] as const) {
      const headerLength = family === 4 ? 20 : 40;
      const err = encodeIcmpError(family, { type, code: 0, original: probe, quoteBytes: headerLength + 8 });
      const m = decodeIcmp(err, 0, family);
      assert.ok(m.ok);
      assert.equal(m.value.kind, 'time-exceeded');
      const q = decodeQuotedProbe(err, m.value.quotedOffset!, m.value.quotedEnd!);
      assert.ok(q.ok, JSON.stringify(q));
      assert.equal(q.value.protocol, 'icmp');
      assert.equal(q.value.icmpId, 4242);
      assert.equal(q.value.icmpSeq, 77);
      assert.equal(q.value.dst, family === 4 ? '198.18.200.1' : '2001:2:0:200::1');
    }
  });

  test('RFC 4884 extension with an RFC 4950 MPLS stack', () => {
    const labels: MplsLabel[] = [
      { label: 24005, tc: 5, s: 0, ttl: 1 },
      { label: 1048575, tc: 0, s: 1, ttl: 255 },
    ];
    for (const [family, probe, type] of [
      [4, probe4, ICMP4.timeExceeded],
      [6, probe6, ICMP6.timeExceeded],
    ] as const) {
      const err = encodeIcmpError(family, { type, code: 0, original: probe, quoteBytes: 1000, mpls: labels });
      const m = decodeIcmp(err, 0, family);
      assert.ok(m.ok);
      assert.deepEqual(m.value.mpls, labels);
      assert.equal(m.value.quotedEnd! - m.value.quotedOffset!, 128, 'quote padded to 128 bytes');
      const q = decodeQuotedProbe(err, m.value.quotedOffset!, m.value.quotedEnd!);
      assert.ok(q.ok);
      assert.equal(q.value.icmpSeq, 77);
    }
  });

  test('pre-RFC 4884 routers: extension after a fixed 128-byte quote, length field zero', () => {
    const err = encodeIcmpError(4, {
      type: ICMP4.timeExceeded,
      code: 0,
      original: probe4,
      quoteBytes: 1000,
      mpls: [{ label: 16, tc: 0, s: 1, ttl: 1 }],
    });
    err[5] = 0; // no length announced
    err.writeUInt16BE(0, 2);
    err.writeUInt16BE(internetChecksum(err), 2);
    const m = decodeIcmp(err, 0, 4);
    assert.ok(m.ok);
    assert.deepEqual(m.value.mpls, [{ label: 16, tc: 0, s: 1, ttl: 1 }]);
  });

  test('a corrupted extension checksum is not read as labels in compat mode', () => {
    const err = encodeIcmpError(4, {
      type: ICMP4.timeExceeded,
      code: 0,
      original: probe4,
      quoteBytes: 1000,
      mpls: [{ label: 16, tc: 0, s: 1, ttl: 1 }],
    });
    err[5] = 0;
    err.writeUInt8(err.readUInt8(8 + 128 + 2) ^ 0xff, 8 + 128 + 2); // break the extension checksum
    const m = decodeIcmp(err, 0, 4);
    assert.ok(m.ok);
    assert.equal(m.value.mpls, undefined);
  });

  test('UDP and TCP probes are identified by ports (and TCP sequence)', () => {
    const udp = encodeIp(
      4,
      { ...ep4, protocol: IPPROTO_UDP, ttl: 1 },
      encodeUdp(ep4, 40001, 33500, new Uint8Array(10)),
    );
    const e1 = encodeIcmpError(4, { type: ICMP4.unreachable, code: 3, original: udp, quoteBytes: 28 });
    const m1 = decodeIcmp(e1, 0, 4);
    assert.ok(m1.ok);
    const q1 = decodeQuotedProbe(e1, m1.value.quotedOffset!, m1.value.quotedEnd!);
    assert.ok(q1.ok);
    assert.deepEqual([q1.value.protocol, q1.value.srcPort, q1.value.dstPort], ['udp', 40001, 33500]);
    const tcp = encodeIp(
      6,
      { ...ep6, protocol: IPPROTO_TCP, ttl: 1 },
      encodeTcp(ep6, { srcPort: 50000, dstPort: 443, seq: 0xdeadbeef, ack: 0, flags: TCP_SYN }),
    );
    const e2 = encodeIcmpError(6, { type: ICMP6.timeExceeded, code: 0, original: tcp, quoteBytes: 48 });
    const m2 = decodeIcmp(e2, 0, 6);
    assert.ok(m2.ok);
    const q2 = decodeQuotedProbe(e2, m2.value.quotedOffset!, m2.value.quotedEnd!);
    assert.ok(q2.ok);
    assert.deepEqual(
      [q2.value.protocol, q2.value.srcPort, q2.value.dstPort, q2.value.tcpSeq],
      ['tcp', 50000, 443, 0xdeadbeef],
    );
  });

  test('TCP checksum with pseudo-header verifies', () => {
    const seg = encodeTcp(ep4, { srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TCP_SYN });
    const pseudo = Buffer.concat([
      Buffer.from(ep4.src),
      Buffer.from(ep4.dst),
      Buffer.from([0, IPPROTO_TCP, 0, seg.length]),
    ]);
    assert.equal(internetChecksum(Buffer.concat([pseudo, seg])), 0);
    const t = decodeTcp(seg);
    assert.ok(t.ok);
    assert.equal(t.value.flags, TCP_SYN);
  });

  test('unreachable codes mean the same thing in both families', () => {
    assert.equal(unreachableReason(4, 3), 'port');
    assert.equal(unreachableReason(6, 4), 'port');
    assert.equal(unreachableReason(4, 1), 'host');
    assert.equal(unreachableReason(6, 3), 'host');
    assert.equal(unreachableReason(4, 13), 'prohibited');
    assert.equal(unreachableReason(6, 1), 'prohibited');
    assert.equal(unreachableReason(4, 0), 'net');
    assert.equal(unreachableReason(6, 0), 'net');
  });
});

describe('constant-flow UDP', () => {
  test('any checksum from 1 to 0xfffe can be made by the first two payload bytes', async () => {
    const { encodeUdpWithChecksum } = await import('../../src/packet/transport.js');
    for (const ep of [ep4, ep6]) {
      for (const want of [1, 2, 0x1234, 0x7fff, 0x8000, 0xfffe]) {
        const seg = encodeUdpWithChecksum(ep, 40000, 33434, 36, want);
        assert.equal(seg.readUInt16BE(6), want);
        const pseudo = Buffer.concat([
          Buffer.from(ep.src),
          Buffer.from(ep.dst),
          ep.family === 4
            ? Buffer.from([0, IPPROTO_UDP, seg.length >> 8, seg.length & 0xff])
            : Buffer.from([0, 0, seg.length >> 8, seg.length & 0xff, 0, 0, 0, IPPROTO_UDP]),
        ]);
        assert.equal(internetChecksum(Buffer.concat([pseudo, seg])), 0, `checksum ${want} verifies`);
      }
    }
  });
});

test('IPv6 formatting by hand matches ipaddr.js on edge cases and 100,000 random addresses', async () => {
  const { formatIPv6 } = await import('../../src/packet/address.js');
  const ipaddr = (await import('ipaddr.js')).default;
  const cases = [
    '::',
    '::1',
    '1::',
    '2001:db8::1',
    '2001:db8:0:0:1:0:0:1',
    '2001:0:0:1:0:0:0:1',
    '0:0:1:0:0:1:0:0',
    '::ffff:127.0.0.1',
    '64:ff9b::7f00:1',
    'fe80::1:2:3:4',
    '1:2:3:4:5:6:7:8',
    '1:0:2:0:3:0:4:0',
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  ];
  for (const c of cases) {
    const bytes = Uint8Array.from(ipaddr.parse(c).toByteArray());
    assert.equal(formatIPv6(bytes, 0), ipaddr.fromByteArray(Array.from(bytes)).toString(), c);
  }
  const buf = new Uint8Array(16);
  for (let n = 0; n < 100_000; n++) {
    // Mostly zeros, so that runs of zero groups of every length and place come up.
    for (let i = 0; i < 16; i += 2) {
      const zero = Math.random() < 0.5;
      buf[i] = zero ? 0 : Math.random() < 0.5 ? 0 : (Math.random() * 256) | 0;
      buf[i + 1] = zero ? 0 : (Math.random() * 256) | 0;
    }
    assert.equal(formatIPv6(buf, 0), ipaddr.fromByteArray(Array.from(buf)).toString());
  }
});
