// The carrier table: which Chinese carrier network an address belongs to, by
// real prefix arithmetic (longest prefix wins: CMIN2's /24s inside CMI's /15,
// and 223.120.190.1 is not in 223.120.19.0/24, unlike text-prefix scripts).
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { errnoCode, VpslineError } from '../errors.js';
import { errorMessage, isObject } from './narrow.js';

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
  | 'cmnet';

export type CarrierId = KnownCarrierId | (string & {});

export interface Carrier {
  id: CarrierId;
  asn: number | null;
  name: string;
  /** ct, cu, cm: the Chinese carrier group it belongs to. */
  family: string;
  prefixes: string[];
  /** Shared by more than one network: names the carrier, not the line. */
  ambiguous?: boolean;
  /** Taken from peer tools' text prefixes, not from routing data. */
  approximate?: boolean;
  sources: string[];
}

interface Range {
  carrier: Carrier;
  /** IPv4 in ranges4, IPv6 in ranges6 (ipaddr's match() throws across families). */
  address: ipaddr.IPv4 | ipaddr.IPv6;
  bits: number;
}

const DEFAULT_TABLE = new URL('../../data/carriers.json', import.meta.url);

export class CarrierTable {
  private readonly ranges4: Range[] = [];
  private readonly ranges6: Range[] = [];
  private readonly byAsn = new Map<number, Carrier>();
  readonly carriers: Carrier[];

  constructor(carriers: Carrier[]) {
    this.carriers = carriers;
    for (const c of carriers) {
      if (c.asn !== null) this.byAsn.set(c.asn, c);
      for (const p of c.prefixes) {
        const [address, bits] = ipaddr.parseCIDR(p);
        (address.kind() === 'ipv4' ? this.ranges4 : this.ranges6).push({ carrier: c, address, bits });
      }
    }
    // Longest prefix first, so the first match is the most specific.
    this.ranges4.sort((a, b) => b.bits - a.bits);
    this.ranges6.sort((a, b) => b.bits - a.bits);
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
    const merged = new Map(base.map((c) => [c.id, c]));
    for (const c of extra) merged.set(c.id, c);
    return new CarrierTable([...merged.values()]);
  }

  /** The carrier whose most specific prefix holds `address`, or undefined. */
  match(address: string): Carrier | undefined {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.process(address); // IPv4-mapped IPv6 becomes IPv4
    } catch {
      return undefined;
    }
    const ranges = parsed.kind() === 'ipv4' ? this.ranges4 : this.ranges6;
    return ranges.find((r) => parsed.match(r.address, r.bits))?.carrier;
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
    for (const p of c.prefixes) {
      try {
        ipaddr.parseCIDR(String(p));
      } catch {
        throw new VpslineError(
          'EVPSLINE_BAD_OPTION',
          `${where} (${c.id}): ${JSON.stringify(p)} is not a prefix like 59.43.0.0/16.`,
          2,
        );
      }
    }
    return {
      id: c.id,
      asn: typeof c.asn === 'number' ? c.asn : null,
      name: typeof c.name === 'string' ? c.name : c.id,
      family: typeof c.family === 'string' ? c.family : 'other',
      prefixes: c.prefixes.map(String),
      ...(c.ambiguous ? { ambiguous: true } : {}),
      ...(c.approximate ? { approximate: true } : {}),
      sources: Array.isArray(c.sources) ? c.sources.map(String) : [],
    };
  });
}
