// Origin AS numbers from a local file, for machines that should not (or
// cannot) ask Team Cymru. Two layouts, one entry per line:
// - iptoasn.com's ip2asn TSV: "first<TAB>last<TAB>asn<TAB>country<TAB>name"
//   (AS 0 means "not routed" and is skipped);
// - "prefix asn", e.g. "59.43.0.0/16 4809" or "59.43.0.0/16 AS4809".
// Lookups are a binary search over ranges sorted by start; where ranges nest
// (prefix lists), the narrowest one that holds the address wins.
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { errnoCode, VpslineError } from '../errors.js';

interface Range {
  first: bigint;
  last: bigint;
  asn: number;
  /** The nearest earlier range that overlaps this one (nested prefixes), or null. */
  parent: Range | null;
}

/** An address as a number in one space: IPv4 and IPv4-mapped IPv6 below 2^32, IPv6 above. */
function toNumber(address: string): { v6: boolean; n: bigint } {
  // process() is parse() that turns IPv4-mapped IPv6 into IPv4.
  const a = ipaddr.process(address);
  let n = 0n;
  for (const b of a.toByteArray()) n = (n << 8n) | BigInt(b);
  return { v6: a.kind() === 'ipv6', n };
}

function rangeOf(cidr: string): { v6: boolean; first: bigint; last: bigint } {
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  const width = addr.kind() === 'ipv4' ? 32 : 128;
  const { v6, n } = toNumber(addr.toString());
  const size = 1n << BigInt(width - bits);
  const first = n & ~(size - 1n);
  return { v6, first, last: first + size - 1n };
}

/** Link each range to the nearest earlier one still open at its start (a stack walk). */
function linkParents(ranges: Range[]): Range[] {
  const open: Range[] = [];
  for (const r of ranges) {
    for (let top = open.at(-1); top && top.last < r.first; top = open.at(-1)) open.pop();
    r.parent = open.at(-1) ?? null;
    open.push(r);
  }
  return ranges;
}

export class AsnDatabase {
  private constructor(
    private readonly v4: Range[],
    private readonly v6: Range[],
    readonly source: string,
  ) {}

  static parse(text: string, source = 'file'): AsnDatabase {
    const v4: Range[] = [];
    const v6: Range[] = [];
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      // A trimmed line that is not empty splits into non-empty columns; missing ones read as ''.
      const [first, second = '', third = ''] = line.split(/\s+/);
      if (!first || first.startsWith('#')) continue;
      try {
        let r: { v6: boolean; first: bigint; last: bigint };
        let asText: string;
        if (first.includes('/')) {
          r = rangeOf(first);
          asText = second;
        } else {
          const a = toNumber(first);
          const b = toNumber(second);
          if (a.v6 !== b.v6 || b.n < a.n) throw new Error('range');
          r = { v6: a.v6, first: a.n, last: b.n };
          asText = third;
        }
        const m = /^(?:AS)?(\d+)$/i.exec(asText);
        if (!m) throw new Error('asn');
        const asn = Number(m[1]);
        if (asn === 0) continue;
        (r.v6 ? v6 : v4).push({ first: r.first, last: r.last, asn, parent: null });
      } catch {
        throw new VpslineError(
          'EVPSLINE_BAD_OPTION',
          `${source} line ${i + 1} is not "first last asn ..." (ip2asn TSV) or "prefix asn": ${line.slice(0, 60)}`,
          2,
        );
      }
    }
    // Wider ranges first at equal starts, so a narrower one that follows can be found by scanning back.
    const order = (a: Range, b: Range): number =>
      a.first < b.first ? -1 : a.first > b.first ? 1 : a.last > b.last ? -1 : a.last < b.last ? 1 : 0;
    return new AsnDatabase(linkParents(v4.sort(order)), linkParents(v6.sort(order)), source);
  }

  static load(file: string): AsnDatabase {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `Cannot read the AS database ${file} (${errnoCode(err) ?? 'error'}).`,
        2,
      );
    }
    return AsnDatabase.parse(text, file);
  }

  get size(): number {
    return this.v4.length + this.v6.length;
  }

  /** The origin AS of `address`, or null. */
  lookup(address: string): number | null {
    let key: { v6: boolean; n: bigint };
    try {
      key = toNumber(address);
    } catch {
      return null;
    }
    const ranges = key.v6 ? this.v6 : this.v4;
    // Last range starting at or before the address...
    let lo = 0;
    let hi = ranges.length - 1;
    let at: Range | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      // lo <= mid <= hi < ranges.length: always a range.
      const r = ranges[mid];
      if (r === undefined) break;
      if (r.first <= key.n) {
        at = r;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // ...or, if that one ends before it, the nearest enclosing range.
    for (let r = at; r; r = r.parent) {
      if (r.last >= key.n) return r.asn;
    }
    return null;
  }
}
