// Well-formed messages as each socket kind delivers them, for decoder tests.
import type { ErrorQueueMessage, PacketMessage } from '../src/native.js';
import { addressBytes, type Family } from '../src/packet/address.js';
import { encodeEcho, encodeIcmpError, ICMP4, ICMP6, type MplsLabel } from '../src/packet/icmp.js';
import { encodeIp, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../src/packet/ip.js';
import { encodeTcp, encodeUdp, TCP_SYN } from '../src/packet/transport.js';

export const CLIENT = { 4: '198.18.0.2', 6: '2001:2::2' } as const;

function ep(family: Family, src: string, dst: string) {
  return { family, src: addressBytes(src, family), dst: addressBytes(dst, family) };
}

/** The probe as it left the client (IP header included). */
export function echoProbe(family: Family, dst: string, id: number, seq: number, ttl = 1): Buffer {
  const e = ep(family, CLIENT[family], dst);
  return encodeIp(
    family,
    { ...e, protocol: family === 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, ttl },
    encodeEcho(family, false, { id, seq, payload: new Uint8Array(36) }, e),
  );
}

export function udpProbe(family: Family, dst: string, srcPort: number, dstPort: number, ttl = 1): Buffer {
  const e = ep(family, CLIENT[family], dst);
  return encodeIp(family, { ...e, protocol: IPPROTO_UDP, ttl }, encodeUdp(e, srcPort, dstPort, new Uint8Array(36)));
}

export function tcpProbe(family: Family, dst: string, srcPort: number, dstPort: number, ttl = 1): Buffer {
  const e = ep(family, CLIENT[family], dst);
  return encodeIp(
    family,
    { ...e, protocol: IPPROTO_TCP, ttl },
    encodeTcp(e, { srcPort, dstPort, seq: 12345, ack: 0, flags: TCP_SYN }),
  );
}

/** A router's time-exceeded for `probe`, as a raw socket receives it (v4: with IP header). */
export function rawTimeExceeded(
  family: Family,
  router: string,
  probe: Buffer,
  mpls?: MplsLabel[],
  quoteBytes = 548,
): PacketMessage {
  const e = ep(family, router, CLIENT[family]);
  const icmp = encodeIcmpError(
    family,
    {
      type: family === 4 ? ICMP4.timeExceeded : ICMP6.timeExceeded,
      code: 0,
      original: probe,
      quoteBytes,
      ...(mpls ? { mpls } : {}),
    },
    e,
  );
  const data = family === 4 ? encodeIp(4, { ...e, protocol: IPPROTO_ICMP, ttl: 63 }, icmp) : icmp;
  return { kind: 'packet', data, truncated: false, addr: router, rxNs: 1_000_000, kernelTime: true, ttl: 63 };
}

/** The destination's echo reply, as a raw socket receives it. */
export function rawEchoReply(family: Family, from: string, id: number, seq: number): PacketMessage {
  const e = ep(family, from, CLIENT[family]);
  const icmp = encodeEcho(family, true, { id, seq, payload: new Uint8Array(36) }, e);
  const data = family === 4 ? encodeIp(4, { ...e, protocol: IPPROTO_ICMP, ttl: 60 }, icmp) : icmp;
  return { kind: 'packet', data, truncated: false, addr: from, rxNs: 1_000_000, kernelTime: true, ttl: 60 };
}

/** An error-queue message (ping/UDP/TCP sockets): quoted transport data, original destination, offender. */
export function errqueueMessage(
  family: Family,
  dst: string,
  dstPort: number,
  offender: string,
  quoted: Buffer,
  type?: number,
  code = 0,
): ErrorQueueMessage {
  return {
    kind: 'error-queue',
    data: quoted,
    truncated: false,
    addr: dst,
    port: dstPort,
    rxNs: 1_000_000,
    kernelTime: true,
    ee: { errno: 113, origin: family === 4 ? 2 : 3, type: type ?? (family === 4 ? 11 : 3), code, info: 0, offender },
  };
}
