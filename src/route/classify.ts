// Which carrier line a path uses, with the hops as evidence. Pure: hops in,
// verdict out. docs/line-rules.md states each rule with the published traces
// (test/fixtures/traces) that support it. In short:
// - one hop per TTL (a report pasted twice, or load balancing, counts once);
// - a hop is named by the carrier table (longest prefix) or by its origin AS;
//   silent, private and carrier-NAT hops are no evidence;
// - the trace is read from the foreign side towards China: a trace that starts
//   in China (a home PC towards the server) is read backwards;
// - the line is the first Chinese carrier group met from the foreign side,
//   judged by all of that group's long-haul hops: China Telecom with a 202.97
//   (163) hop and a CN2 hop is CN2 GT, CN2 without 163 is CN2 GIA (CTGNet
//   hops beside CN2 change nothing), 163 alone is 163; China Unicom with a
//   9929 hop is 9929, with 10099 (CUG) and 4837 only is 4837 unless no 4837
//   hop answered; China Mobile with a CMIN2 hop is CMIN2, with CMI is CMI;
// - a provincial network delivering to the target is the landing, never the line;
// - "inconclusive" only when no Chinese carrier hop answered or the hops
//   contradict each other; every lesser doubt lowers the confidence and says why.
import ipaddr from 'ipaddr.js';
import type { Carrier, CarrierTable, KnownCarrierId } from '../lookup/carriers.js';
import { addNote, type RouteNote } from './notes.js';

/** CN2 splits into GIA and GT; access networks and the shared CT IPv6 range name no line. */
export type Verdict =
  | 'cn2-gia'
  | 'cn2-gt'
  | Exclude<KnownCarrierId, 'cn2' | 'ct-backbone-v6' | 'ct-access' | 'cu-access' | 'cm-access'>
  | 'other'
  | 'inconclusive';

export interface ClassifyHop {
  ttl: number;
  /** null: nothing answered at this TTL, or the trace shows the hop without its address. */
  address: string | null;
  /** Origin AS when known (from -z or an imported trace). */
  asn?: number | null;
  /** The hop reported MPLS labels (a tunnel may hide hops). */
  mpls?: boolean;
  /** The carrier the trace itself names for the hop by its whois net name (NextTrace's "[CN2-BB]"). */
  netname?: string;
}

export interface Segment {
  carrier: string;
  asn: number | null;
  ttls: number[];
}

export interface Evidence {
  ttl: number;
  /** null when the trace showed only the hop's AS. */
  address: string | null;
  carrier: string;
  asn: number | null;
  /** How the hop was recognised. */
  by: 'prefix' | 'asn' | 'netname';
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

export interface ClassifyOptions {
  /** The origin AS of an address, for hops the trace did not give one (the offline AS index). */
  originAs?: (address: string) => number | null;
  /** Hops that answered but were shown by name only (an imported trace): answered, but unidentified. */
  namesOnly?: number;
  /**
   * Which way the trace runs, when the caller knows (backtrace's targets are in China). Otherwise it is
   * read from the hops: Chinese hops first and a foreign target last is a trace from China outwards.
   */
  direction?: 'towards-china' | 'from-china';
}

/** The long-haul networks the rules below know by name. */
const KNOWN_LINES: readonly string[] = [
  'cn2',
  'chinanet-163',
  'ct-backbone-v6',
  'ctgnet',
  'cu-4837',
  'cu-9929',
  'cu-10099',
  'cmi',
  'cmin2',
  'cmnet',
];

type Tag =
  | { kind: 'carrier'; carrier: Carrier; by: Evidence['by']; asn: number | null }
  | { kind: 'foreign'; asn: number | null }
  | { kind: 'private' }
  | { kind: 'silent' };

interface Tagged {
  hop: ClassifyHop;
  tag: Tag;
}

/** RFC 1918, carrier-grade NAT, link-local and unique-local: inside someone's network, never evidence. */
export function isPrivate(address: string): boolean {
  try {
    const r = ipaddr.process(address).range();
    return ['private', 'carrierGradeNat', 'linkLocal', 'uniqueLocal', 'loopback', 'unspecified'].includes(r);
  } catch {
    return false;
  }
}

function tag(hop: ClassifyHop, table: CarrierTable, opts: ClassifyOptions): Tag {
  const { address } = hop;
  // The first hop is the tracing machine's own gateway: a home router may show any address it likes.
  if (hop.ttl === 1 && (address || hop.asn)) return { kind: 'private' };
  if (address && isPrivate(address)) return { kind: 'private' };
  const asn = hop.asn || (address ? (opts.originAs?.(address) ?? null) : null);
  const byPrefix = address ? table.match(address) : undefined;
  if (byPrefix) return { kind: 'carrier', carrier: byPrefix, by: 'prefix', asn: asn || byPrefix.asn };
  // An AS that names a line wins; a net name is more precise than an access network's AS (AS4134 is both
  // the 163 backbone and the provinces, and "[CHINANET-BB]" tells them apart).
  const byAsn = asn ? table.byAs(asn) : undefined;
  if (byAsn?.role === 'line') return { kind: 'carrier', carrier: byAsn, by: 'asn', asn };
  const byName = hop.netname ? table.carriers.find((c) => c.id === hop.netname) : undefined;
  if (byName) return { kind: 'carrier', carrier: byName, by: 'netname', asn: asn || byName.asn };
  if (byAsn) return { kind: 'carrier', carrier: byAsn, by: 'asn', asn };
  if (!address && !asn) return { kind: 'silent' };
  return { kind: 'foreign', asn: asn || null };
}

/**
 * One hop per TTL: the address most hops of that TTL answered from (first seen on a tie), keeping the
 * AS and MPLS of that address. A report pasted twice, or several probes per TTL, count once.
 */
export function oneHopPerTtl(hops: ClassifyHop[]): ClassifyHop[] {
  const byTtl = new Map<number, ClassifyHop[]>();
  for (const h of hops) {
    const list = byTtl.get(h.ttl);
    if (list) list.push(h);
    else byTtl.set(h.ttl, [h]);
  }
  const out: ClassifyHop[] = [];
  for (const [ttl, list] of [...byTtl.entries()].sort((a, b) => a[0] - b[0])) {
    const answered = list.filter((h) => h.address || h.asn || h.netname);
    const counts = new Map<string, number>();
    for (const h of answered) {
      const key = h.address ?? `AS${h.asn}/${h.netname}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let best: ClassifyHop | undefined;
    let bestCount = 0;
    for (const h of answered) {
      const n = counts.get(h.address ?? `AS${h.asn}/${h.netname}`) ?? 0;
      if (n > bestCount) {
        best = h;
        bestCount = n;
      }
    }
    const mpls = list.some((h) => h.mpls);
    if (!best) out.push({ ttl, address: null, ...(mpls ? { mpls } : {}) });
    else {
      const asn = best.asn ?? answered.find((h) => h.address === best?.address && h.asn)?.asn;
      const { netname } = best;
      out.push({
        ttl,
        address: best.address,
        ...(asn ? { asn } : {}),
        ...(netname ? { netname } : {}),
        ...(mpls ? { mpls } : {}),
      });
    }
  }
  return out;
}

interface Reading {
  /** Hops in the order the line is read: from the foreign side into China. */
  seq: Tagged[];
  /** The trace ran from China outwards and is read backwards. */
  outbound: boolean;
  /** Its first public hop is Chinese: it was traced from inside China (never so when told it runs towards China). */
  startsInChina: boolean;
}

function orient(tagged: Tagged[], direction: ClassifyOptions['direction']): Reading {
  const isPublic = (t: Tagged): boolean => t.tag.kind === 'carrier' || t.tag.kind === 'foreign';
  const chinese = (t: Tagged | undefined): boolean => t?.tag.kind === 'carrier';
  const startsInChina = direction !== 'towards-china' && chinese(tagged.find(isPublic));
  if (direction) {
    const outbound = direction === 'from-china';
    return { seq: outbound ? [...tagged].reverse() : tagged, outbound, startsInChina };
  }
  // A home PC in China towards a server abroad: Chinese hops first, a foreign target last.
  const last = tagged.findLast(isPublic);
  const outbound = startsInChina && !!last && !chinese(last);
  return { seq: outbound ? [...tagged].reverse() : tagged, outbound, startsInChina };
}

export function classify(input: ClassifyHop[], table: CarrierTable, opts: ClassifyOptions = {}): Classification {
  const hops = oneHopPerTtl(input);
  const tagged = hops.map((hop) => ({ hop, tag: tag(hop, table, opts) }));
  const out: Pick<Classification, 'notes' | 'noteCodes'> = { notes: [], noteCodes: [] };
  const evidence: Evidence[] = [];
  const segments: Segment[] = [];
  for (const { hop, tag: t } of tagged) {
    if (t.kind !== 'carrier') continue;
    evidence.push({ ttl: hop.ttl, address: hop.address, carrier: t.carrier.id, asn: t.asn, by: t.by });
    const last = segments.at(-1);
    // Silent or unknown hops between two hops of one carrier do not split its segment.
    if (last && last.carrier === t.carrier.id) last.ttls.push(hop.ttl);
    else segments.push({ carrier: t.carrier.id, asn: t.carrier.asn, ttls: [hop.ttl] });
  }
  for (const c of new Set(evidence.map((e) => e.carrier))) {
    if (table.carriers.find((x) => x.id === c)?.approximate) addNote(out, 'approximate', { carrier: c });
  }
  const result = (verdict: Verdict, landing: string | null, confidence: Confidence): Classification => ({
    verdict,
    landing,
    segments,
    evidence,
    confidence,
    ...out,
  });

  const silent = tagged.filter((x) => x.tag.kind === 'silent').length;
  const hidden = tagged.filter((x) => x.tag.kind === 'private').length;
  const mpls = hops.some((h) => h.mpls) ? 1 : 0;
  if (!evidence.length) {
    // Only the destination answering says nothing of the way there.
    const lastPublic = tagged.findLastIndex((x) => x.tag.kind === 'foreign');
    const named = (opts.namesOnly ?? 0) > 0;
    if (tagged.some((x, i) => x.tag.kind === 'foreign' && i < lastPublic) || named) {
      addNote(out, 'no-backbone');
      return result('other', null, silent || hidden || named ? 'medium' : 'high');
    }
    addNote(out, 'nothing-answered', { silent, hidden, mpls });
    return result('inconclusive', null, 'low');
  }

  const { seq, outbound, startsInChina } = orient(tagged, opts.direction);
  if (outbound) addNote(out, 'read-backwards');
  const carrierOf = (t: Tagged): Carrier | undefined => (t.tag.kind === 'carrier' ? t.tag.carrier : undefined);
  const firstChinese = seq.find((t) => carrierOf(t));
  const family = (firstChinese && carrierOf(firstChinese)?.family) ?? 'other';
  // The group's part of the path: from its first hop to its last, read from the foreign side.
  const inFamily = (t: Tagged): boolean => carrierOf(t)?.family === family;
  const start = seq.findIndex(inFamily);
  const end = seq.findLastIndex(inFamily);
  const part = seq.slice(start, end + 1);
  const lineHops = part.filter((t) => carrierOf(t)?.role === 'line' && inFamily(t));
  const count = (id: string): number => lineHops.filter((t) => carrierOf(t)?.id === id).length;
  const ttlsOf = (id: string): number[] => lineHops.filter((t) => carrierOf(t)?.id === id).map((t) => t.hop.ttl);
  // Hops inside the group's part that hide what they are.
  const gaps = part.filter((t) => t.tag.kind === 'silent' || t.tag.kind === 'private').length;
  // Another group's long-haul hops inside this group's part: the hops contradict each other.
  const intruders = part.filter((t) => {
    const c = carrierOf(t);
    return c && c.family !== family && c.role === 'line';
  });
  /** The landing network: the first carrier after the last hop of the line's own networks. */
  const landingAfter = (ids: string[]): string | null => {
    const last = seq.findLastIndex((t) => ids.includes(carrierOf(t)?.id ?? ''));
    const next = seq.slice(last + 1).find((t) => {
      const c = carrierOf(t);
      return c && !ids.includes(c.id);
    });
    return (next && carrierOf(next)?.id) ?? null;
  };

  if (intruders.length) {
    const [other] = intruders;
    addNote(out, 'contradicts', {
      first: firstChinese ? (carrierOf(firstChinese)?.id ?? '') : '',
      other: other ? (carrierOf(other)?.id ?? '') : '',
      ttl: other?.hop.ttl ?? 0,
    });
    return result('inconclusive', null, 'low');
  }

  // A user's carrier file may add a line the rules do not know: its hops name no verdict.
  const unknownLine = lineHops.find((t) => !KNOWN_LINES.includes(carrierOf(t)?.id ?? ''));
  if (unknownLine && lineHops.every((t) => !KNOWN_LINES.includes(carrierOf(t)?.id ?? ''))) {
    addNote(out, 'unknown-line', { carrier: carrierOf(unknownLine)?.id ?? '' });
    return result('inconclusive', null, 'low');
  }

  /** high: two or more hops of the line and nothing hidden in its part; one hop or hidden hops: lower. */
  const confidence = (defining: number, hiddenMatters: boolean): Confidence => {
    if (defining >= 2 && !(hiddenMatters && gaps)) return 'high';
    if (defining >= 2 || !(hiddenMatters && gaps)) return 'medium';
    return 'low';
  };
  const oneHop = (id: string, what: string): void => {
    const [ttl] = ttlsOf(id);
    if (count(id) === 1 && ttl !== undefined) addNote(out, 'one-hop', { what, ttl });
  };
  const gapNote = (what: string): void => {
    if (gaps) addNote(out, 'hidden-in-part', { count: gaps, what });
  };
  const accessOnly = (carrier: string): Classification => {
    // A trace that starts in China with only its own home network answering: nothing is known of the line.
    if (startsInChina) {
      addNote(out, 'home-only', { carrier });
      return result('inconclusive', null, 'low');
    }
    addNote(out, 'access-only', { carrier });
    return result(
      family === 'ct' ? 'chinanet-163' : family === 'cu' ? 'cu-4837' : family === 'cm' ? 'cmnet' : 'cernet',
      landingAfter([carrier]),
      'low',
    );
  };

  if (family === 'ct') {
    const cn2 = count('cn2');
    const c163 = count('chinanet-163');
    const ctg = count('ctgnet');
    // One 202.97 hop where the path leaves China Telecom for another carrier is where the carriers
    // interconnect (on the 163 backbone), not a domestic 163 leg: still GIA.
    const last163 = lineHops.findLast((t) => carrierOf(t)?.id === 'chinanet-163');
    const afterLast163 = last163 ? seq.slice(seq.indexOf(last163) + 1).find((t) => carrierOf(t)) : undefined;
    const handoff =
      c163 === 1 &&
      !!afterLast163 &&
      carrierOf(afterLast163)?.family !== 'ct' &&
      (last163 ? seq.indexOf(last163) : -1) > seq.findLastIndex((t) => carrierOf(t)?.id === 'cn2');
    if (cn2 && handoff) {
      addNote(out, 'handoff-163', { next: carrierOf(afterLast163)?.id ?? '' });
      oneHop('cn2', '59.43 (CN2)');
      return result(
        'cn2-gia',
        landingAfter(['cn2', 'chinanet-163', 'ctgnet', 'ct-backbone-v6']),
        confidence(cn2, true),
      );
    }
    if (cn2 && c163) {
      addNote(out, 'cn2-gt', { cn2, c163 });
      oneHop('cn2', '59.43 (CN2)');
      return result(
        'cn2-gt',
        landingAfter(['cn2', 'chinanet-163', 'ctgnet', 'ct-backbone-v6']),
        confidence(Math.min(cn2, c163), false),
      );
    }
    if (cn2) {
      if (ctg) addNote(out, 'ctgnet-with-cn2');
      oneHop('cn2', '59.43 (CN2)');
      gapNote('a 202.97 (163) hop would make it CN2 GT');
      return result('cn2-gia', landingAfter(['cn2', 'ctgnet', 'ct-backbone-v6']), confidence(cn2, true));
    }
    if (ctg) {
      if (c163) addNote(out, 'ctgnet-then-163');
      oneHop('ctgnet', 'CTGNet (AS23764)');
      gapNote('a 59.43 (CN2) hop would make it CN2');
      return result('ctgnet', landingAfter(['ctgnet', 'chinanet-163', 'ct-backbone-v6']), confidence(ctg, true));
    }
    if (c163) {
      oneHop('chinanet-163', '202.97 (163)');
      gapNote('a 59.43 (CN2) hop would make it CN2 GT');
      return result('chinanet-163', landingAfter(['chinanet-163', 'ct-backbone-v6']), confidence(c163, true));
    }
    if (count('ct-backbone-v6')) {
      addNote(out, 'ct-v6-shared');
      return result('chinanet-163', landingAfter(['ct-backbone-v6']), 'low');
    }
    return accessOnly('ct-access');
  }
  if (family === 'cu') {
    const a9929 = count('cu-9929');
    const cug = count('cu-10099');
    const a4837 = count('cu-4837');
    if (a9929) {
      if (cug) addNote(out, 'via-cug', { next: '9929' });
      oneHop('cu-9929', 'AS9929');
      return result('cu-9929', landingAfter(['cu-10099', 'cu-9929']), confidence(a9929, false));
    }
    if (cug && a4837) {
      addNote(out, 'via-cug', { next: '4837' });
      return result('cu-4837', landingAfter(['cu-10099', 'cu-4837']), confidence(a4837, false));
    }
    if (cug) {
      oneHop('cu-10099', 'AS10099 (CUG)');
      gapNote('a 4837 or 9929 hop would name the domestic line');
      return result('cu-10099', landingAfter(['cu-10099']), confidence(cug, true));
    }
    if (a4837) {
      oneHop('cu-4837', 'AS4837');
      return result('cu-4837', landingAfter(['cu-4837']), confidence(a4837, false));
    }
    return accessOnly('cu-access');
  }
  if (family === 'cm') {
    const n2 = count('cmin2');
    const cmi = count('cmi');
    const net = count('cmnet');
    if (n2) {
      oneHop('cmin2', 'CMIN2 (AS58807)');
      return result('cmin2', landingAfter(['cmin2', 'cmi']), confidence(n2 + cmi, false));
    }
    if (cmi) {
      oneHop('cmi', 'CMI (AS58453)');
      return result('cmi', landingAfter(['cmi']), confidence(cmi, true));
    }
    if (net) return result('cmnet', landingAfter(['cmnet']), confidence(net, false));
    return accessOnly('cm-access');
  }
  if (family === 'edu') return result('cernet', landingAfter(['cernet']), confidence(part.length - gaps, false));
  // A user's carrier file can add a group the rules do not know.
  addNote(out, 'unknown-line', { carrier: firstChinese ? (carrierOf(firstChinese)?.id ?? '') : '' });
  return result('inconclusive', null, 'low');
}
