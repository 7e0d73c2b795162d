// Address bytes <-> text. Formatting is by hand (it runs for every reply);
// parsing and validation go through ipaddr.js.
import ipaddr from 'ipaddr.js';
import { uint16At } from './bytes.js';

export type Family = 4 | 6;

export function formatIPv4(buf: Uint8Array, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/**
 * RFC 5952 text, exactly as ipaddr.js writes it: lower case, the longest run
 * of two or more zero groups (the first of equals) as "::".
 */
export function formatIPv6(buf: Uint8Array, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(uint16At(buf, off + 2 * i));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

/** Address literal to bytes (4 or 16); throws on anything that is not a literal of `family`. */
export function addressBytes(addr: string, family: Family): Uint8Array {
  const parsed = ipaddr.parse(addr);
  if ((family === 4) !== (parsed.kind() === 'ipv4')) throw new Error(`${addr} is not an IPv${family} address`);
  return Uint8Array.from(parsed.toByteArray());
}

/** Recent answers of addressFamily: every probe's destination is checked, and parsing IPv6 text is slow. */
const families = new Map<string, Family | null>();

/** The family of an address literal, or null when it is not one. */
export function addressFamily(addr: string): Family | null {
  const known = families.get(addr);
  if (known !== undefined) return known;
  const family = ipaddr.IPv4.isValidFourPartDecimal(addr) ? 4 : ipaddr.IPv6.isValid(addr) ? 6 : null;
  if (families.size >= 4096) families.clear();
  families.set(addr, family);
  return family;
}

/** Canonical text form, so that addresses from different sources compare equal. */
export function canonicalAddress(addr: string): string {
  return ipaddr.parse(addr).toString();
}
