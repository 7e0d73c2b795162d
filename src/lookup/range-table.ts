// Address ranges with a value each, for "which range holds this address",
// where ranges may nest and the narrowest one wins (longest-prefix match).
// A binary search over ranges sorted by start, then a walk up the chain of
// enclosing ranges: no linear scan, whatever the table's size.
import ipaddr from 'ipaddr.js';
import { parseV4, parseV6 } from './address-parse.js';

export interface NumericRange {
  v6: boolean;
  first: bigint;
  last: bigint;
}

interface Entry<T> {
  first: bigint;
  last: bigint;
  value: T;
  /** The nearest earlier range that holds this one's start (nested prefixes), or null. */
  parent: Entry<T> | null;
}

/** An address as a number: IPv4 and IPv4-mapped IPv6 in the IPv4 space, other IPv6 in its own. */
export function addressNumber(address: string): { v6: boolean; n: bigint } {
  // process() is parse() that turns IPv4-mapped IPv6 into IPv4.
  const a = ipaddr.process(address);
  let n = 0n;
  for (const b of a.toByteArray()) n = (n << 8n) | BigInt(b);
  return { v6: a.kind() === 'ipv6', n };
}

const WORDS = new Uint32Array(4);

/** "59.43.0.0/16" as its first and last address. */
export function cidrRange(cidr: string): NumericRange {
  // The plain forms without ipaddr.js: tables hold tens of thousands of prefixes.
  const slash = cidr.lastIndexOf('/');
  const bitsText = cidr.slice(slash + 1);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : -1;
  if (slash > 0 && bits >= 0) {
    const head = cidr.slice(0, slash);
    const v4 = parseV4(head);
    if (v4 >= 0 && bits <= 32) {
      const size = 2 ** (32 - bits);
      const first = v4 - (v4 % size);
      return { v6: false, first: BigInt(first), last: BigInt(first + size - 1) };
    }
    if (v4 < 0 && bits <= 128 && parseV6(head, WORDS)) {
      let n = 0n;
      for (const w of WORDS) n = (n << 32n) | BigInt(w);
      const size = 1n << BigInt(128 - bits);
      const first = n & ~(size - 1n);
      return { v6: true, first, last: first + size - 1n };
    }
  }
  const [addr, prefixBits] = ipaddr.parseCIDR(cidr);
  const width = addr.kind() === 'ipv4' ? 32 : 128;
  const { v6, n } = addressNumber(addr.toString());
  const size = 1n << BigInt(width - prefixBits);
  const first = n & ~(size - 1n);
  return { v6, first, last: first + size - 1n };
}

function build<T>(entries: Entry<T>[]): Entry<T>[] {
  // Wider ranges first at equal starts, so a narrower one that follows can be found by scanning back.
  entries.sort((a, b) =>
    a.first < b.first ? -1 : a.first > b.first ? 1 : a.last > b.last ? -1 : a.last < b.last ? 1 : 0,
  );
  const open: Entry<T>[] = [];
  for (const r of entries) {
    for (let top = open.at(-1); top && top.last < r.first; top = open.at(-1)) open.pop();
    r.parent = open.at(-1) ?? null;
    open.push(r);
  }
  return entries;
}

function find<T>(entries: Entry<T>[], n: bigint): T | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  let at: Entry<T> | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = entries[mid];
    if (r === undefined) break;
    if (r.first <= n) {
      at = r;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let r = at; r; r = r.parent) if (r.last >= n) return r.value;
  return undefined;
}

export class RangeTable<T> {
  private readonly v4: Entry<T>[];
  private readonly v6: Entry<T>[];

  constructor(ranges: Iterable<{ range: NumericRange; value: T }>) {
    const v4: Entry<T>[] = [];
    const v6: Entry<T>[] = [];
    for (const { range, value } of ranges)
      (range.v6 ? v6 : v4).push({ first: range.first, last: range.last, value, parent: null });
    this.v4 = build(v4);
    this.v6 = build(v6);
  }

  get size(): number {
    return this.v4.length + this.v6.length;
  }

  /** The value of the narrowest range holding `address`; undefined when none does or it is not an address. */
  lookup(address: string): T | undefined {
    let key: { v6: boolean; n: bigint };
    try {
      key = addressNumber(address);
    } catch {
      return undefined;
    }
    return find(key.v6 ? this.v6 : this.v4, key.n);
  }
}
