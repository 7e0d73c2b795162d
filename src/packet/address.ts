// Address bytes <-> text. IPv4 by hand (hot path); IPv6 through ipaddr.js.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export function formatIPv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

export function formatIPv6(buf: Uint8Array, off: number): string {
  return ipaddr.fromByteArray(Array.from(buf.subarray(off, off + 16))).toString();
}

/** Address literal to bytes (4 or 16); throws on anything that is not a literal of `family`. */
export function addressBytes(addr: string, family: Family): Uint8Array {
  const parsed = ipaddr.parse(addr);
  if ((family === 4) !== (parsed.kind() === 'ipv4')) throw new Error(`${addr} is not an IPv${family} address`);
  return Uint8Array.from(parsed.toByteArray());
}

/** The family of an address literal, or null when it is not one. */
export function addressFamily(addr: string): Family | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(addr)) return 4;
  if (ipaddr.IPv6.isValid(addr)) return 6;
  return null;
}

/** Canonical text form, so that addresses from different sources compare equal. */
export function canonicalAddress(addr: string): string {
  return ipaddr.parse(addr).toString();
}
