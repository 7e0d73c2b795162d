// Which carrier line a path uses, with the hops as evidence. Pure: hops in,
// verdict out. The rules:
// - hops are tagged by the carrier table (longest prefix) or, failing that,
//   by their AS number; silent, private and carrier-NAT hops are no evidence;
// - the line is what the first Chinese carrier segment says (later segments
//   are the landing network delivering to the target);
// - CN2: at least two 59.43 hops. GT when two or more 202.97 hops follow or
//   come first at the border; a single 202.97 hop right before the target is
//   GIA's nearest-access entry, not GT;
// - one premium hop only, or evidence hidden by silent/private hops or MPLS,
//   gives "inconclusive" with the reason, never a guess.
import ipaddr from 'ipaddr.js';
import type { Carrier, CarrierTable, KnownCarrierId } from '../lookup/carriers.js';
import { addNote, type RouteNote } from './notes.js';

/** CN2 splits into GIA and GT; the shared CT IPv6 range names no line. */
export type Verdict =
  | 'cn2-gia'
  | 'cn2-gt'
  | Exclude<KnownCarrierId, 'cn2' | 'ct-backbone-v6'>
  | 'other'
  | 'inconclusive';

export interface ClassifyHop {
  ttl: number;
  /** null: nothing answered at this TTL. */
  address: string | null;
  /** Origin AS when known (from -z or an imported trace). */
  asn?: number | null;
  /** The hop reported MPLS labels (a tunnel may hide hops). */
  mpls?: boolean;
}

export interface Segment {
  carrier: string;
  asn: number | null;
  ttls: number[];
}

export interface Evidence {
  ttl: number;
  address: string;
  carrier: string;
  asn: number | null;
  /** How the hop was recognised. */
  by: 'prefix' | 'asn';
}

export type Confidence = 'high' | 'medium' | 'low';

export interface Classification {
  verdict: Verdict;
  /** The network that delivers to the target, when it differs from the line. */
  landing: string | null;
  segments: Segment[];
  evidence: Evidence[];
  confidence: Confidence;
  /** In English. */
  notes: string[];
  /** The same notes as codes and parameters (src/route/notes.ts has both languages). */
  noteCodes: RouteNote[];
}

type Tag =
  | { kind: 'carrier'; address: string; carrier: Carrier; by: 'prefix' | 'asn' }
  | { kind: 'private' }
  | { kind: 'silent' }
  | { kind: 'unknown' };

/** RFC 1918, carrier-grade NAT, link-local and unique-local: inside someone's network, never evidence. */
export function isPrivate(address: string): boolean {
  try {
    const r = ipaddr.process(address).range();
    return ['private', 'carrierGradeNat', 'linkLocal', 'uniqueLocal', 'loopback'].includes(r);
  } catch {
    return false;
  }
}

function tag(hop: ClassifyHop, table: CarrierTable): Tag {
  if (!hop.address) return { kind: 'silent' };
  const byPrefix = table.match(hop.address);
  if (byPrefix) return { kind: 'carrier', address: hop.address, carrier: byPrefix, by: 'prefix' };
  if (hop.asn) {
    const byAsn = table.byAs(hop.asn);
    if (byAsn) return { kind: 'carrier', address: hop.address, carrier: byAsn, by: 'asn' };
  }
  return isPrivate(hop.address) ? { kind: 'private' } : { kind: 'unknown' };
}

const MIN_HOPS = 2;

export function classify(hops: ClassifyHop[], table: CarrierTable): Classification {
  const sorted = [...hops].sort((a, b) => a.ttl - b.ttl);
  const tags = sorted.map((h) => ({ hop: h, tag: tag(h, table) }));
  const out: Pick<Classification, 'notes' | 'noteCodes'> = { notes: [], noteCodes: [] };
  const evidence: Evidence[] = [];
  const segments: Segment[] = [];
  for (const { hop, tag: t } of tags) {
    if (t.kind !== 'carrier') continue;
    evidence.push({ ttl: hop.ttl, address: t.address, carrier: t.carrier.id, asn: t.carrier.asn, by: t.by });
    const last = segments.at(-1);
    // Silent or unknown hops between two hops of one carrier do not split its segment.
    if (last && last.carrier === t.carrier.id) last.ttls.push(hop.ttl);
    else segments.push({ carrier: t.carrier.id, asn: t.carrier.asn, ttls: [hop.ttl] });
  }
  const silent = tags.filter((x) => x.tag.kind === 'silent').length;
  const hidden = tags.filter((x) => x.tag.kind === 'private').length;
  const mpls = sorted.some((h) => h.mpls);
  const hiders = { silent, hidden, mpls: mpls ? 1 : 0 };
  for (const c of new Set(evidence.map((e) => e.carrier))) {
    const carrier = table.carriers.find((x) => x.id === c);
    if (carrier?.approximate) addNote(out, 'approximate', { carrier: c });
  }

  const result = (verdict: Verdict, landing: string | null, confidence: Confidence): Classification => ({
    verdict,
    landing,
    segments,
    evidence,
    confidence,
    ...out,
  });
  const count = (id: string): number => evidence.filter((e) => e.carrier === id).length;
  const first = segments[0];
  if (!first) {
    if (silent || hidden || mpls) {
      addNote(out, 'nothing-answered', hiders);
      return result('inconclusive', null, 'low');
    }
    addNote(out, 'no-backbone');
    return result('other', null, 'medium');
  }
  const family = table.carriers.find((c) => c.id === first.carrier)?.family ?? 'other';
  const later = segments.slice(1);
  /** The first later segment of another carrier group (or of another line in the same group). */
  const landingAfter = (line: string[]): string | null => {
    const seg = later.find((s) => !line.includes(s.carrier));
    return seg ? seg.carrier : null;
  };
  const confidenceFor = (n: number): Confidence => (n >= 3 && silent === 0 ? 'high' : n >= MIN_HOPS ? 'medium' : 'low');
  const tooFew = (id: string, what: string): Classification | undefined => {
    if (count(id) >= MIN_HOPS) return undefined;
    const only = evidence.find((e) => e.carrier === id);
    // None at all: the first segment is a carrier added by a --carriers file, in a known group but no known line.
    if (only) addNote(out, 'too-few', { what, ttl: only.ttl, ...hiders });
    else addNote(out, 'unknown-line', { what, carrier: first.carrier });
    return result('inconclusive', null, 'low');
  };

  if (family === 'ct') {
    if (first.carrier === 'ctgnet') {
      if (count('cn2')) addNote(out, 'ctgnet-to-cn2');
      return result(
        'ctgnet',
        landingAfter(['ctgnet', 'cn2', 'chinanet-163', 'ct-backbone-v6']),
        confidenceFor(count('ctgnet')),
      );
    }
    if (first.carrier === 'ct-backbone-v6' && !count('cn2') && !count('chinanet-163')) {
      addNote(out, 'ct-v6-shared');
      return result('inconclusive', null, 'low');
    }
    const cn2Hops = evidence.filter((e) => e.carrier === 'cn2');
    const cn2 = cn2Hops.length;
    const firstCn2 = cn2Hops[0]?.ttl;
    const lastCn2 = cn2Hops.at(-1)?.ttl;
    if (firstCn2 === undefined || lastCn2 === undefined) {
      return (
        tooFew('chinanet-163', '202.97 (163)') ??
        result('chinanet-163', landingAfter(['chinanet-163', 'ct-backbone-v6']), confidenceFor(count('chinanet-163')))
      );
    }
    const few = tooFew('cn2', '59.43 (CN2)');
    if (few) return few;
    // 163 hops at the border (before the first CN2 hop) or two or more after it: CN2 GT.
    const before = evidence.filter((e) => e.carrier === 'chinanet-163' && e.ttl < firstCn2).length;
    const between = evidence.filter((e) => e.carrier === 'chinanet-163' && e.ttl > firstCn2 && e.ttl < lastCn2).length;
    const after = evidence.filter((e) => e.carrier === 'chinanet-163' && e.ttl > lastCn2).length;
    if (before > 0 || between > 0 || after >= MIN_HOPS) {
      addNote(out, 'cn2-gt');
      return result('cn2-gt', landingAfter(['cn2', 'chinanet-163', 'ct-backbone-v6']), confidenceFor(cn2));
    }
    if (after === 1) addNote(out, 'nearest-access');
    return result('cn2-gia', landingAfter(['cn2', 'chinanet-163', 'ct-backbone-v6']), confidenceFor(cn2));
  }
  if (family === 'cu') {
    if (first.carrier === 'cu-10099')
      return result('cu-10099', landingAfter(['cu-10099']), confidenceFor(count('cu-10099')));
    if (count('cu-9929')) {
      return (
        tooFew('cu-9929', 'AS9929') ??
        result('cu-9929', landingAfter(['cu-9929', 'cu-4837']), confidenceFor(count('cu-9929')))
      );
    }
    return (
      tooFew('cu-4837', '219.158 (AS4837)') ??
      result('cu-4837', landingAfter(['cu-4837']), confidenceFor(count('cu-4837')))
    );
  }
  if (family === 'cm') {
    if (count('cmin2'))
      return tooFew('cmin2', 'CMIN2') ?? result('cmin2', landingAfter(['cmin2', 'cmi']), confidenceFor(count('cmin2')));
    if (first.carrier === 'cmi')
      return tooFew('cmi', 'CMI') ?? result('cmi', landingAfter(['cmi']), confidenceFor(count('cmi')));
    return (
      tooFew('cmnet', '221.183 (CMNET)') ?? result('cmnet', landingAfter(['cmnet']), confidenceFor(count('cmnet')))
    );
  }
  addNote(out, 'first-not-chinese', { carrier: first.carrier });
  return result('other', null, 'medium');
}
