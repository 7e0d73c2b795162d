// IPv4 and IPv6 headers: decode (with IPv6 extension headers) and encode.
import { formatIPv4, formatIPv6, type Family } from './address.js';
import { byteAt, uint16At } from './bytes.js';
import { internetChecksum } from './checksum.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** Why a packet was not decoded. Every drop is counted, none is thrown. */
export type DropReason = 'truncated' | 'malformed' | 'unsupported';

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DropReason };

/** A decode result that drops the packet, with the reason it is counted under. */
export const drop = (reason: DropReason): { ok: false; reason: DropReason } => ({ ok: false, reason });

export interface IpHeader {
  family: Family;
  src: string;
  dst: string;
  ttl: number;
  /** IPv4 TOS byte or IPv6 traffic class. */
  tos: number;
  /** Upper-layer protocol after any IPv6 extension headers. */
  protocol: number;
  /** Offset of the upper-layer header within the buffer. */
  payloadOffset: number;
  /** Total packet length claimed by the header (may exceed what was captured). */
  totalLength: number;
  /** IPv4 fragment offset or IPv6 fragment header present and not first fragment. */
  laterFragment: boolean;
}

/** The first nibble says which family a raw packet is (0 when there is no byte at `off`). */
export function ipVersion(buf: Uint8Array, off = 0): number {
  const first = buf[off];
  return first === undefined ? 0 : first >> 4;
}

export function decodeIPv4(buf: Uint8Array, off = 0): Decoded<IpHeader> {
  if (buf.length - off < 20) return drop('truncated');
  const vihl = byteAt(buf, off);
  if (vihl >> 4 !== 4) return drop('malformed');
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) return drop('malformed');
  if (buf.length - off < ihl) return drop('truncated');
  const totalLength = uint16At(buf, off + 2);
  if (totalLength < ihl) return drop('malformed');
  const fragOffset = uint16At(buf, off + 6) & 0x1fff;
  return {
    ok: true,
    value: {
      family: 4,
      ttl: byteAt(buf, off + 8),
      tos: byteAt(buf, off + 1),
      protocol: byteAt(buf, off + 9),
      src: formatIPv4(buf, off + 12),
      dst: formatIPv4(buf, off + 16),
      payloadOffset: off + ihl,
      totalLength,
      laterFragment: fragOffset !== 0,
    },
  };
}

const EXT_HOP_BY_HOP = 0;
const EXT_ROUTING = 43;
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const EXT_DEST_OPTS = 60;
/** Bound on the extension-header walk: a hostile chain cannot loop us. */
const MAX_EXTENSION_HEADERS = 8;

export function decodeIPv6(buf: Uint8Array, off = 0): Decoded<IpHeader> {
  if (buf.length - off < 40) return drop('truncated');
  const first = byteAt(buf, off);
  if (first >> 4 !== 6) return drop('malformed');
  const payloadLength = uint16At(buf, off + 4);
  let next = byteAt(buf, off + 6);
  let pos = off + 40;
  let laterFragment = false;
  for (let n = 0; ; n++) {
    if (
      next !== EXT_HOP_BY_HOP &&
      next !== EXT_ROUTING &&
      next !== EXT_FRAGMENT &&
      next !== EXT_AH &&
      next !== EXT_DEST_OPTS
    )
      break;
    if (n >= MAX_EXTENSION_HEADERS) return drop('malformed');
    if (buf.length - pos < 8) return drop('truncated');
    const following = byteAt(buf, pos);
    let len: number;
    if (next === EXT_FRAGMENT) {
      len = 8;
      const fragOffset = uint16At(buf, pos + 2) >> 3;
      if (fragOffset !== 0) laterFragment = true;
    } else if (next === EXT_AH) {
      len = (byteAt(buf, pos + 1) + 2) * 4;
    } else {
      len = (byteAt(buf, pos + 1) + 1) * 8;
    }
    pos += len;
    next = following;
  }
  if (pos > buf.length) return drop('truncated');
  return {
    ok: true,
    value: {
      family: 6,
      ttl: byteAt(buf, off + 7),
      tos: ((first & 0x0f) << 4) | (byteAt(buf, off + 1) >> 4),
      protocol: next,
      src: formatIPv6(buf, off + 8),
      dst: formatIPv6(buf, off + 24),
      payloadOffset: pos,
      totalLength: 40 + payloadLength,
      laterFragment,
    },
  };
}

export function decodeIp(buf: Uint8Array, off = 0): Decoded<IpHeader> {
  const v = ipVersion(buf, off);
  if (v === 4) return decodeIPv4(buf, off);
  if (v === 6) return decodeIPv6(buf, off);
  return buf.length - off < 1 ? drop('truncated') : drop('malformed');
}

export interface IpEncodeOptions {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl: number;
  tos?: number;
  /** IPv4 identification field. */
  id?: number;
}

/** Wrap an upper-layer payload in an IPv4 header (with header checksum). */
export function encodeIPv4(opts: IpEncodeOptions, payload: Uint8Array): Buffer {
  const pkt = Buffer.alloc(20 + payload.length);
  pkt[0] = 0x45;
  pkt[1] = opts.tos ?? 0;
  pkt.writeUInt16BE(pkt.length, 2);
  pkt.writeUInt16BE(opts.id ?? 0, 4);
  pkt[8] = opts.ttl;
  pkt[9] = opts.protocol;
  pkt.set(opts.src, 12);
  pkt.set(opts.dst, 16);
  pkt.writeUInt16BE(internetChecksum(pkt, 0, 20), 10);
  pkt.set(payload, 20);
  return pkt;
}

/** Wrap an upper-layer payload in an IPv6 header (no extension headers). */
export function encodeIPv6(opts: IpEncodeOptions, payload: Uint8Array): Buffer {
  const pkt = Buffer.alloc(40 + payload.length);
  const tc = opts.tos ?? 0;
  pkt.writeUInt32BE(((6 << 28) | (tc << 20)) >>> 0, 0);
  pkt.writeUInt16BE(payload.length, 4);
  pkt[6] = opts.protocol;
  pkt[7] = opts.ttl;
  pkt.set(opts.src, 8);
  pkt.set(opts.dst, 24);
  pkt.set(payload, 40);
  return pkt;
}

export function encodeIp(family: Family, opts: IpEncodeOptions, payload: Uint8Array): Buffer {
  return family === 4 ? encodeIPv4(opts, payload) : encodeIPv6(opts, payload);
}
