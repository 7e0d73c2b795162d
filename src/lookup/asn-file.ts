// Origin AS numbers from a local text file (the shipped data is the binary
// index of asn-index.ts). Three layouts, one entry per line:
// - ip-location-db's CSV: "first,last,asn,name";
// - iptoasn.com's ip2asn TSV: "first<TAB>last<TAB>asn<TAB>country<TAB>name"
//   (AS 0 means "not routed" and is skipped);
// - "prefix asn", e.g. "59.43.0.0/16 4809" or "59.43.0.0/16 AS4809".
// Lookups are a binary search over ranges sorted by start; where ranges nest
// (prefix lists), the narrowest one that holds the address wins.
import { VpslineError } from '../errors.js';
import { addressNumber, cidrRange, type NumericRange, RangeTable } from './range-table.js';

export class AsnDatabase {
  private constructor(
    private readonly table: RangeTable<number>,
    readonly source: string,
  ) {}

  static parse(text: string, source = 'file'): AsnDatabase {
    const ranges: { range: NumericRange; value: number }[] = [];
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      // A trimmed line that is not empty splits into non-empty columns; missing ones read as ''.
      // ip-location-db's CSV is "first,last,asn,name"; the others are separated by blanks.
      const [first, second = '', third = ''] = line.includes(',') ? line.split(',', 3) : line.split(/\s+/);
      if (!first || first.startsWith('#')) continue;
      try {
        let range: NumericRange;
        let asText: string;
        if (first.includes('/')) {
          range = cidrRange(first);
          asText = second;
        } else {
          const a = addressNumber(first);
          const b = addressNumber(second);
          if (a.v6 !== b.v6 || b.n < a.n) throw new Error('range');
          range = { v6: a.v6, first: a.n, last: b.n };
          asText = third;
        }
        const m = /^(?:AS)?(\d{1,10})$/i.exec(asText);
        if (!m) throw new Error('asn');
        const asn = Number(m[1]);
        if (asn === 0) continue;
        ranges.push({ range, value: asn });
      } catch {
        throw new VpslineError(
          'EVPSLINE_BAD_OPTION',
          `${source} line ${i + 1} is not "first last asn ..." (ip2asn TSV) or "prefix asn": ${line.slice(0, 60)}`,
          2,
        );
      }
    }
    return new AsnDatabase(new RangeTable(ranges), source);
  }

  get size(): number {
    return this.table.size;
  }

  /** The origin AS of `address`, or null. */
  lookup(address: string): number | null {
    return this.table.lookup(address) ?? null;
  }
}
