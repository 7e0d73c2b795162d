// UDP and TCP headers. Decoders need only the first 8 bytes, which is all
// that many routers quote back in an ICMP error.
import type { Family } from './address.js';
import { uint16At } from './bytes.js';
import { fold, onesSum, pseudoHeaderSum, sum16 } from './checksum.js';
import { drop, IPPROTO_TCP, IPPROTO_UDP, type Decoded } from './ip.js';

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}

export function decodeUdp(buf: Uint8Array, off = 0): Decoded<UdpHeader> {
  if (buf.length - off < 8) return drop('truncated');
  return {
    ok: true,
    value: {
      srcPort: uint16At(buf, off),
      dstPort: uint16At(buf, off + 2),
      length: uint16At(buf, off + 4),
      checksum: uint16At(buf, off + 6),
    },
  };
}

export interface Endpoints {
  family: Family;
  src: Uint8Array;
  dst: Uint8Array;
}

export function encodeUdp(ep: Endpoints, srcPort: number, dstPort: number, payload: Uint8Array): Buffer {
  const seg = Buffer.alloc(8 + payload.length);
  seg.writeUInt16BE(srcPort, 0);
  seg.writeUInt16BE(dstPort, 2);
  seg.writeUInt16BE(seg.length, 4);
  seg.set(payload, 8);
  const sum = fold(sum16(seg, 0, seg.length, pseudoHeaderSum(ep.family, ep.src, ep.dst, IPPROTO_UDP, seg.length)));
  seg.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return seg;
}

/**
 * A UDP datagram whose checksum is `checksum` (1..0xfffe), by choosing the
 * first two payload bytes: Paris traceroute's trick for carrying a probe's
 * identity in a header field while ports (the flow) stay constant.
 */
export function encodeUdpWithChecksum(
  ep: Endpoints,
  srcPort: number,
  dstPort: number,
  payloadLength: number,
  checksum: number,
): Buffer {
  if (!(checksum >= 1 && checksum <= 0xfffe)) throw new RangeError('checksum must be 1..0xfffe');
  const seg = Buffer.alloc(8 + Math.max(2, payloadLength));
  seg.writeUInt16BE(srcPort, 0);
  seg.writeUInt16BE(dstPort, 2);
  seg.writeUInt16BE(seg.length, 4);
  const partial = onesSum(
    sum16(seg, 0, seg.length, pseudoHeaderSum(ep.family, ep.src, ep.dst, IPPROTO_UDP, seg.length)),
  );
  // Want ~onesSum(partial + x) == checksum, so x = target - partial in one's complement.
  const target = ~checksum & 0xffff;
  seg.writeUInt16BE(onesSum(target + (~partial & 0xffff)), 8);
  seg.writeUInt16BE(checksum, 6);
  return seg;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  /** Present only when the buffer holds more than the first 8 bytes. */
  ack?: number;
  flags?: number;
}

export function decodeTcp(buf: Uint8Array, off = 0): Decoded<TcpHeader> {
  if (buf.length - off < 8) return drop('truncated');
  const view = new DataView(buf.buffer, buf.byteOffset + off, buf.length - off);
  const header: TcpHeader = {
    srcPort: view.getUint16(0),
    dstPort: view.getUint16(2),
    seq: view.getUint32(4),
  };
  if (buf.length - off >= 14) {
    header.ack = view.getUint32(8);
    header.flags = view.getUint8(13);
  }
  return { ok: true, value: header };
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window?: number;
}

/** A bare TCP header (20 bytes, no options) with a correct checksum. */
export function encodeTcp(ep: Endpoints, s: TcpSegment): Buffer {
  const seg = Buffer.alloc(20);
  seg.writeUInt16BE(s.srcPort, 0);
  seg.writeUInt16BE(s.dstPort, 2);
  seg.writeUInt32BE(s.seq >>> 0, 4);
  seg.writeUInt32BE(s.ack >>> 0, 8);
  seg[12] = 5 << 4;
  seg[13] = s.flags;
  seg.writeUInt16BE(s.window ?? 65535, 14);
  seg.writeUInt16BE(fold(sum16(seg, 0, 20, pseudoHeaderSum(ep.family, ep.src, ep.dst, IPPROTO_TCP, 20))), 16);
  return seg;
}
