// The carrier table: which Chinese carrier network an address belongs to, by
// real prefix arithmetic (longest prefix wins, so 223.120.190.1 is not in
// 223.120.19.0/24, unlike text-prefix scripts). The shipped table is built
// from routing data by scripts/data-carriers.ts (docs/routing-data.md).
import { readFileSync } from 'node:fs';
import { errnoCode, VpslineError } from '../errors.js';
import { errorMessage, isObject } from './narrow.js';
import { cidrRange, type NumericRange, RangeTable } from './range-table.js';

/** The carriers of the built-in table; user files may add others. */
export type KnownCarrierId =
  | 'cn2'
  | 'chinanet-163'
  | 'ct-backbone-v6'
  | 'ctgnet'
  | 'cu-4837'
  | 'cu-9929'
  | 'cu-10099'
  | 'cmi'
  | 'cmin2'
  | 'cmnet'
  | 'ct-access'
  | 'cu-access'
  | 'cm-access'
  | 'cernet';

export type CarrierId = KnownCarrierId | (string & {});

export interface Carrier {
  id: CarrierId;
  /** The AS the network is known by, if one. */
  asn: number | null;
  /** Every AS whose hops count as this network (a hop outside the prefixes is still known by its AS). */
  asns: number[];
  name: string;
  /** ct, cu, cm, edu: the Chinese carrier group it belongs to. */
  family: string;
  /** line: a long-haul network that names the verdict; access: a provincial or metro network that delivers. */
  role: 'line' | 'access';
  prefixes: string[];
  /** The prefixes as numbers (parsed once, when the table is read). */
  ranges: NumericRange[];
  /** Shared by more than one network: names the carrier, not the line. */
  ambiguous?: boolean;
  /** Not from routing data (a user's file may say so). */
  approximate?: boolean;
  sources: string[];
}

const DEFAULT_TABLE = new URL('../../data/carriers.json', import.meta.url);

export class CarrierTable {
  private readonly ranges: RangeTable<Carrier>;
  private readonly byAsn = new Map<number, Carrier>();
  readonly carriers: Carrier[];

  constructor(carriers: Carrier[]) {
    this.carriers = carriers;
    // A later entry with the same AS (a user's file) replaces an earlier one.
    for (const c of carriers) for (const asn of c.asns) this.byAsn.set(asn, c);
    this.ranges = new RangeTable(carriers.flatMap((c) => c.ranges.map((range) => ({ range, value: c }))));
  }

  /** The table shipped with vpsline, with `overrides` (same id replaces, new ids add). */
  static load(overridesFile?: string): CarrierTable {
    const base = parseTable(readFileSync(DEFAULT_TABLE, 'utf8'), 'the built-in carrier table');
    if (!overridesFile) return new CarrierTable(base);
    let text: string;
    try {
      text = readFileSync(overridesFile, 'utf8');
    } catch (err) {
      throw new VpslineError(
        'EVPSLINE_BAD_OPTION',
        `Cannot read the carrier file ${overridesFile} (${errnoCode(err) ?? 'error'}).`,
        2,
      );
    }
    const extra = parseTable(text, overridesFile);
    // The file's entries come last, so that where an AS is named twice the file wins.
    const replaced = new Set(extra.map((c) => c.id));
    return new CarrierTable([...base.filter((c) => !replaced.has(c.id)), ...extra]);
  }

  /** The carrier whose most specific prefix holds `address`, or undefined. */
  match(address: string): Carrier | undefined {
    return this.ranges.lookup(address);
  }

  byAs(asn: number): Carrier | undefined {
    return this.byAsn.get(asn);
  }
}

/** Parse and check a carrier file; mistakes name the entry and what to fix. */
export function parseTable(text: string, source: string): Carrier[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new VpslineError('EVPSLINE_BAD_OPTION', `${source} is not valid JSON: ${errorMessage(err)}`, 2);
  }
  const list = isObject(doc) ? doc.carriers : undefined;
  if (!Array.isArray(list)) throw new VpslineError('EVPSLINE_BAD_OPTION', `${source} needs a "carriers" list.`, 2);
  return list.map((raw: unknown, i): Carrier => {
    // An entry that is not an object has none of the fields, and is named as such below.
    const c = isObject(raw) ? raw : {};
    const where = `${source}: carriers[${i}]`;
    if (typeof c.id !== 'string' || !c.id) throw new VpslineError('EVPSLINE_BAD_OPTION', `${where} needs an "id".`, 2);
    if (!Array.isArray(c.prefixes))
      throw new VpslineError('EVPSLINE_BAD_OPTION', `${where} (${c.id}) needs a "prefixes" list.`, 2);
    // Hand-written rows for space not announced in BGP (built-in table): their unannounced part counts.
    const manual: unknown[] = Array.isArray(c.manual) ? c.manual : [];
    const extra = manual.flatMap((m) => (isObject(m) && Array.isArray(m.notAnnounced) ? m.notAnnounced : []));
    const prefixes = [...c.prefixes, ...extra].map(String);
    const ranges: NumericRange[] = prefixes.map((p) => {
      try {
        return cidrRange(p);
      } catch {
        throw new VpslineError(
          'EVPSLINE_BAD_OPTION',
          `${where} (${c.id}): ${JSON.stringify(p).slice(0, 60)} is not a prefix like 59.43.0.0/16.`,
          2,
        );
      }
    });
    const asns: unknown[] = Array.isArray(c.asns) ? c.asns : [];
    return {
      id: c.id,
      asn: typeof c.asn === 'number' ? c.asn : null,
      // Files without "asns" (vpsline 0.1's format) name the carrier's hops by its "asn".
      asns: Array.isArray(c.asns)
        ? asns.filter((a): a is number => typeof a === 'number' && Number.isInteger(a))
        : typeof c.asn === 'number'
          ? [c.asn]
          : [],
      name: typeof c.name === 'string' ? c.name : c.id,
      family: typeof c.family === 'string' ? c.family : 'other',
      role: c.role === 'access' ? 'access' : 'line',
      prefixes,
      ranges,
      ...(c.ambiguous ? { ambiguous: true } : {}),
      ...(c.approximate ? { approximate: true } : {}),
      sources: Array.isArray(c.sources) ? c.sources.map(String) : typeof c.source === 'string' ? [c.source] : [],
    };
  });
}
