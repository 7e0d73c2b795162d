// RFC 1071 Internet checksum, with the TCP/UDP/ICMPv6 pseudo-header.
import type { Family } from './address.js';

/**
 * One's-complement sum of 16-bit words, not yet folded or inverted. Bytes past
 * the end of `buf` (an `end` beyond it) count as zero, like RFC 1071's padding
 * of an odd last byte.
 */
export function sum16(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
  if (i < end) sum += (buf[i] ?? 0) << 8;
  return sum;
}

/** End-around-carry fold to 16 bits, not inverted. */
export function onesSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return fold(sum16(buf, start, end, initial));
}

/** Sum of the pseudo-header for an upper-layer packet of `length` bytes. */
export function pseudoHeaderSum(
  family: Family,
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  length: number,
): number {
  let sum = sum16(src) + sum16(dst);
  if (family === 4) return sum + protocol + length;
  sum += Math.floor(length / 0x10000) + (length & 0xffff);
  return sum + protocol;
}
