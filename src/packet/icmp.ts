// ICMPv4 / ICMPv6: echo, time exceeded, destination unreachable, the quoted
// datagram inside errors, and RFC 4884 extensions carrying RFC 4950 MPLS stacks.
import type { Family } from './address.js';
import { byteAt, uint16At, uint32At } from './bytes.js';
import { fold, internetChecksum, pseudoHeaderSum, sum16 } from './checksum.js';
import { decodeIp, drop, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, type Decoded } from './ip.js';
import { decodeTcp, decodeUdp, type Endpoints } from './transport.js';

export const ICMP4 = { echoReply: 0, unreachable: 3, echoRequest: 8, timeExceeded: 11, parameterProblem: 12 } as const;
export const ICMP6 = {
  unreachable: 1,
  packetTooBig: 2,
  timeExceeded: 3,
  parameterProblem: 4,
  echoRequest: 128,
  echoReply: 129,
} as const;

export type IcmpKind = 'echo-reply' | 'echo-request' | 'time-exceeded' | 'unreachable' | 'other';

export function icmpKind(family: Family, type: number): IcmpKind {
  if (family === 4) {
    if (type === ICMP4.echoReply) return 'echo-reply';
    if (type === ICMP4.echoRequest) return 'echo-request';
    if (type === ICMP4.timeExceeded) return 'time-exceeded';
    if (type === ICMP4.unreachable) return 'unreachable';
    return 'other';
  }
  if (type === ICMP6.echoReply) return 'echo-reply';
  if (type === ICMP6.echoRequest) return 'echo-request';
  if (type === ICMP6.timeExceeded) return 'time-exceeded';
  if (type === ICMP6.unreachable) return 'unreachable';
  return 'other';
}

export type UnreachableReason = 'net' | 'host' | 'protocol' | 'port' | 'prohibited' | 'fragmentation' | 'other';

/** What a destination-unreachable code means, across both families. */
export function unreachableReason(family: Family, code: number): UnreachableReason {
  if (family === 4) {
    switch (code) {
      case 0:
      case 6:
      case 11:
        return 'net';
      case 1:
      case 7:
      case 12:
        return 'host';
      case 2:
        return 'protocol';
      case 3:
        return 'port';
      case 4:
        return 'fragmentation';
      case 9:
      case 10:
      case 13:
        return 'prohibited';
      default:
        return 'other';
    }
  }
  switch (code) {
    case 0:
      return 'net';
    case 1:
    case 5:
    case 6:
      return 'prohibited';
    case 3:
      return 'host';
    case 4:
      return 'port';
    default:
      return 'other';
  }
}

/** One RFC 4950 label stack entry. */
export interface MplsLabel {
  label: number;
  tc: number;
  s: number;
  ttl: number;
}

/** Fields of `T`, declared absent: each union member below lets the others' fields be read (as undefined). */
type Absent<T> = { [K in keyof T]?: undefined };

interface QuotedIcmpFields {
  icmpId: number;
  icmpSeq: number;
}

interface QuotedPortFields {
  srcPort: number;
  dstPort: number;
}

/** The identity fields of a quoted transport header, by protocol. */
export type QuotedTransport =
  | ({ protocol: 'icmp' } & QuotedIcmpFields & Absent<QuotedPortFields & { tcpSeq: number; udpChecksum: number }>)
  | ({ protocol: 'udp'; udpChecksum: number } & QuotedPortFields & Absent<QuotedIcmpFields & { tcpSeq: number }>)
  | ({ protocol: 'tcp'; tcpSeq: number } & QuotedPortFields & Absent<QuotedIcmpFields & { udpChecksum: number }>);

/** Identity of the probe that an ICMP error quotes. */
export type QuotedProbe = {
  family: Family;
  src: string;
  dst: string;
  /** TTL left in the quoted header (1 at the hop where it expired, usually). */
  ttl: number;
} & QuotedTransport;

interface IcmpHeader {
  family: Family;
  type: number;
  code: number;
}

/** Echo identifier and sequence. */
interface IcmpEchoFields {
  id: number;
  seq: number;
}

interface IcmpQuoteFields {
  /** Offset and end of the quoted original datagram. */
  quotedOffset: number;
  quotedEnd: number;
  mpls?: MplsLabel[];
}

export interface IcmpEcho extends IcmpHeader, IcmpEchoFields, Absent<IcmpQuoteFields> {
  kind: 'echo-reply' | 'echo-request';
}

/** Time exceeded or destination unreachable: it quotes the datagram that caused it. */
export interface IcmpError extends IcmpHeader, IcmpQuoteFields, Absent<IcmpEchoFields> {
  kind: 'time-exceeded' | 'unreachable';
}

export interface IcmpOther extends IcmpHeader, Absent<IcmpEchoFields & IcmpQuoteFields> {
  kind: 'other';
}

export type IcmpMessage = IcmpEcho | IcmpError | IcmpOther;

const MPLS_CLASS = 1;
const MPLS_CTYPE_INCOMING = 1;
/** RFC 4884 §5: pre-4884 routers put extensions after a fixed 128-byte quote. */
const COMPAT_QUOTE = 128;

function decodeMplsExtensions(buf: Uint8Array, start: number, end: number, strict: boolean): MplsLabel[] | undefined {
  if (end - start < 4) return undefined;
  if (byteAt(buf, start) >> 4 !== 2) return undefined;
  const storedSum = uint16At(buf, start + 2);
  // A zero checksum is allowed for a length-announced structure; the compat guess must verify.
  if ((strict || storedSum !== 0) && internetChecksum(buf, start, end) !== 0) return undefined;
  const labels: MplsLabel[] = [];
  let pos = start + 4;
  while (pos + 4 <= end) {
    const len = uint16At(buf, pos);
    if (len < 4 || pos + len > end) return labels.length ? labels : undefined;
    if (buf[pos + 2] === MPLS_CLASS && buf[pos + 3] === MPLS_CTYPE_INCOMING) {
      for (let e = pos + 4; e + 4 <= pos + len; e += 4) {
        const v = uint32At(buf, e);
        labels.push({ label: v >>> 12, tc: (v >>> 9) & 7, s: (v >>> 8) & 1, ttl: v & 0xff });
      }
    }
    pos += len;
  }
  return labels.length ? labels : undefined;
}

/** Decode an ICMP or ICMPv6 message starting at `off` (no IP header before it). */
export function decodeIcmp(buf: Uint8Array, off: number, family: Family): Decoded<IcmpMessage> {
  if (buf.length - off < 8) return drop('truncated');
  const type = byteAt(buf, off);
  const code = byteAt(buf, off + 1);
  const kind = icmpKind(family, type);
  if (kind === 'echo-reply' || kind === 'echo-request') {
    return { ok: true, value: { family, type, code, kind, id: uint16At(buf, off + 4), seq: uint16At(buf, off + 6) } };
  }
  if (kind === 'other') return { ok: true, value: { family, type, code, kind } };
  const quotedOffset = off + 8;
  const words = byteAt(buf, family === 4 ? off + 5 : off + 4);
  const unit = family === 4 ? 4 : 8;
  let quotedEnd = buf.length;
  let mpls: MplsLabel[] | undefined;
  if (words > 0) {
    const extStart = quotedOffset + words * unit;
    if (extStart <= buf.length) {
      quotedEnd = extStart;
      mpls = decodeMplsExtensions(buf, extStart, buf.length, false);
    }
  } else if (buf.length - quotedOffset > COMPAT_QUOTE + 4) {
    mpls = decodeMplsExtensions(buf, quotedOffset + COMPAT_QUOTE, buf.length, true);
    if (mpls) quotedEnd = quotedOffset + COMPAT_QUOTE;
  }
  const value: IcmpError = mpls
    ? { family, type, code, kind, mpls, quotedOffset, quotedEnd }
    : { family, type, code, kind, quotedOffset, quotedEnd };
  return { ok: true, value };
}

const PROTOCOL_NAMES: Record<number, QuotedTransport['protocol']> = {
  [IPPROTO_ICMP]: 'icmp',
  [IPPROTO_ICMPV6]: 'icmp',
  [IPPROTO_UDP]: 'udp',
  [IPPROTO_TCP]: 'tcp',
};

/**
 * Identity fields of a quoted transport header (no IP header before it): what
 * ping, UDP and TCP sockets hand back in the error queue.
 */
export function decodeQuotedTransport(
  buf: Uint8Array,
  off: number,
  protocol: QuotedTransport['protocol'],
  family: Family,
): Decoded<QuotedTransport> {
  if (buf.length - off < 8) return drop('truncated');
  if (protocol === 'icmp') {
    const type = byteAt(buf, off);
    if (type !== (family === 4 ? ICMP4.echoRequest : ICMP6.echoRequest)) return drop('unsupported');
    return { ok: true, value: { protocol, icmpId: uint16At(buf, off + 4), icmpSeq: uint16At(buf, off + 6) } };
  }
  if (protocol === 'udp') {
    const u = decodeUdp(buf, off);
    if (!u.ok) return u;
    return {
      ok: true,
      value: { protocol, srcPort: u.value.srcPort, dstPort: u.value.dstPort, udpChecksum: u.value.checksum },
    };
  }
  const t = decodeTcp(buf, off);
  if (!t.ok) return t;
  return { ok: true, value: { protocol, srcPort: t.value.srcPort, dstPort: t.value.dstPort, tcpSeq: t.value.seq } };
}

/** Decode the quoted original datagram (IP header + at least 8 bytes) inside an ICMP error. */
export function decodeQuotedProbe(buf: Uint8Array, start: number, end: number): Decoded<QuotedProbe> {
  const view = end < buf.length ? buf.subarray(0, end) : buf;
  const ip = decodeIp(view, start);
  if (!ip.ok) return ip;
  const h = ip.value;
  const protocol = PROTOCOL_NAMES[h.protocol];
  if (!protocol || (h.family === 4 && h.protocol === IPPROTO_ICMPV6) || (h.family === 6 && h.protocol === IPPROTO_ICMP))
    return drop('unsupported');
  if (h.laterFragment) return drop('unsupported');
  const t = decodeQuotedTransport(view, h.payloadOffset, protocol, h.family);
  if (!t.ok) return t;
  // The transport fields carry `protocol`, so that it stays tied to them in the type.
  return { ok: true, value: { family: h.family, src: h.src, dst: h.dst, ttl: h.ttl, ...t.value } };
}

export interface EchoFields {
  id: number;
  seq: number;
  payload?: Uint8Array;
}

/**
 * An echo request or reply. IPv4 carries its checksum; for IPv6 the checksum
 * needs the pseudo-header, so it is computed only when endpoints are given
 * (sockets fill it in themselves).
 */
export function encodeEcho(family: Family, reply: boolean, f: EchoFields, ep?: Endpoints): Buffer {
  const payload = f.payload ?? new Uint8Array(0);
  const pkt = Buffer.alloc(8 + payload.length);
  pkt[0] = family === 4 ? (reply ? ICMP4.echoReply : ICMP4.echoRequest) : reply ? ICMP6.echoReply : ICMP6.echoRequest;
  pkt.writeUInt16BE(f.id & 0xffff, 4);
  pkt.writeUInt16BE(f.seq & 0xffff, 6);
  pkt.set(payload, 8);
  setIcmpChecksum(family, pkt, ep);
  return pkt;
}

function setIcmpChecksum(family: Family, pkt: Buffer, ep?: Endpoints): void {
  pkt.writeUInt16BE(0, 2);
  if (family === 4) pkt.writeUInt16BE(internetChecksum(pkt), 2);
  else if (ep)
    pkt.writeUInt16BE(
      fold(sum16(pkt, 0, pkt.length, pseudoHeaderSum(6, ep.src, ep.dst, IPPROTO_ICMPV6, pkt.length))),
      2,
    );
}

export interface IcmpErrorFields {
  type: number;
  code: number;
  /** The original datagram, from its IP header on. */
  original: Uint8Array;
  /** How much of it to quote (routers differ: 8 bytes after the IP header, 128 bytes, or all that fits). */
  quoteBytes: number;
  /** RFC 4950 label stack to append as an RFC 4884 extension. */
  mpls?: MplsLabel[];
}

/** An ICMP error (time exceeded, unreachable) quoting the original datagram. */
export function encodeIcmpError(family: Family, f: IcmpErrorFields, ep?: Endpoints): Buffer {
  let quote = f.original.subarray(0, Math.min(f.quoteBytes, f.original.length));
  let ext: Buffer | undefined;
  if (f.mpls?.length) {
    // RFC 4884: the quote is padded to at least 128 bytes and to a whole number of words.
    const unit = family === 4 ? 4 : 8;
    const padded = Math.max(COMPAT_QUOTE, Math.ceil(quote.length / unit) * unit);
    const q = Buffer.alloc(padded);
    q.set(quote);
    quote = q;
    const obj = Buffer.alloc(4 + 4 * f.mpls.length);
    obj.writeUInt16BE(obj.length, 0);
    obj[2] = MPLS_CLASS;
    obj[3] = MPLS_CTYPE_INCOMING;
    f.mpls.forEach((l, i) => {
      const v = ((l.label & 0xfffff) << 12) | ((l.tc & 7) << 9) | ((l.s & 1) << 8) | (l.ttl & 0xff);
      obj.writeUInt32BE(v >>> 0, 4 + 4 * i);
    });
    ext = Buffer.alloc(4 + obj.length);
    ext[0] = 2 << 4;
    ext.set(obj, 4);
    ext.writeUInt16BE(internetChecksum(ext), 2);
  }
  const pkt = Buffer.alloc(8 + quote.length + (ext ? ext.length : 0));
  pkt[0] = f.type;
  pkt[1] = f.code;
  if (ext) {
    if (family === 4) pkt[5] = quote.length / 4;
    else pkt[4] = quote.length / 8;
  }
  pkt.set(quote, 8);
  if (ext) pkt.set(ext, 8 + quote.length);
  setIcmpChecksum(family, pkt, ep);
  return pkt;
}

/** MPLS labels from an RFC 4884 extension structure that starts at `start` (error-queue payloads). */
export function decodeMplsAt(buf: Uint8Array, start: number): MplsLabel[] | undefined {
  return decodeMplsExtensions(buf, start, buf.length, false);
}
