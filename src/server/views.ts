// What the looking glass shows of a stored trace or upload: hops in one shape
// for both directions, and the masked form of a link whose visitor chose to
// hide their address and home hops.
import ipaddr from 'ipaddr.js';
import type { AsnIndex } from '../lookup/asn-index.js';
import type { CarrierTable } from '../lookup/carriers.js';
import type { ImportedHop } from '../route/import-text.js';
import { carrierTag } from '../route/lines.js';

/** A hop of either direction as the page draws it. Figures the source did not have are null. */
export interface ViewHop {
  ttl: number;
  address: string | null;
  /** Reverse DNS (measured) or the name the uploaded trace showed: untrusted text. */
  name: string | null;
  asn: number | null;
  /** The AS's name in the shipped dataset. */
  asName: string | null;
  /** Short carrier tag (CN2, 163, CMI, ...). */
  carrier: string | null;
  lossPercent: number | null;
  sent: number | null;
  last: number | null;
  avg: number | null;
  best: number | null;
  worst: number | null;
  stdev: number | null;
  /** Hidden at the visitor's request (address and name removed). */
  masked?: true;
}

/** AS number and name of an address, from the shipped dataset (null for private and unknown space). */
export function originOf(address: string | null, asnIndex: AsnIndex): { asn: number | null; asName: string | null } {
  const o = address ? asnIndex.origin(address) : null;
  return { asn: o?.asn ?? null, asName: o?.name || null };
}

/** An uploaded trace's hops, with every figure it had and the same tags as the measured side. */
export function uploadedHops(hops: ImportedHop[], table: CarrierTable, asnIndex: AsnIndex): ViewHop[] {
  return hops.map((h) => {
    const carrier = h.address ? table.match(h.address) : undefined;
    const origin = originOf(h.address, asnIndex);
    const f = h.figures ?? {};
    return {
      ttl: h.ttl,
      address: h.address,
      name: h.name ?? null,
      asn: h.asn ?? origin.asn,
      asName: h.asn && h.asn !== origin.asn ? null : origin.asName,
      carrier: carrier ? carrierTag(carrier.id) : null,
      lossPercent: f.lossPercent ?? null,
      sent: f.sent ?? null,
      last: f.last ?? null,
      avg: f.avg ?? null,
      best: f.best ?? null,
      worst: f.worst ?? null,
      stdev: f.stdev ?? null,
    };
  });
}

/** The visitor's network as the masked link names it: the first half of the address. */
export function maskedAddress(address: string): string {
  if (!ipaddr.isValid(address)) return '***';
  const a = ipaddr.process(address);
  if (a.kind() === 'ipv4') {
    const [b0, b1] = a.toByteArray();
    return `${b0}.${b1}.*.*`;
  }
  const parts = (a as ipaddr.IPv6).parts;
  return `${(parts[0] ?? 0).toString(16)}:${(parts[1] ?? 0).toString(16)}:*`;
}

function sameNetwork(a: string, b: string): boolean {
  if (!ipaddr.isValid(a) || !ipaddr.isValid(b)) return false;
  const x = ipaddr.process(a);
  const y = ipaddr.process(b);
  if (x.kind() !== y.kind()) return false;
  return x.kind() === 'ipv4'
    ? (x as ipaddr.IPv4).match(y as ipaddr.IPv4, 24)
    : (x as ipaddr.IPv6).match(y as ipaddr.IPv6, 48);
}

/**
 * The visitor's home hops: their own address, private and shared (CGNAT) space, and hops in their
 * /24 or /48. Not their whole AS: a ChinaNet visitor's AS4134 is also the 163 backbone, the very hops
 * a shared link is about. What is left shows the line without the home.
 */
export function homeAddresses(visitor: string, hops: readonly Pick<ViewHop, 'address'>[]): Set<string> {
  const home = new Set<string>([visitor]);
  for (const h of hops) {
    if (!h.address || !ipaddr.isValid(h.address)) continue;
    const range = ipaddr.process(h.address).range();
    if (
      range === 'private' ||
      range === 'carrierGradeNat' ||
      range === 'uniqueLocal' ||
      range === 'linkLocal' ||
      sameNetwork(h.address, visitor)
    )
      home.add(h.address);
  }
  return home;
}

/** A hop list with the home hops' addresses and names removed (their figures stay). */
export function maskHops(hops: ViewHop[], home: Set<string>): ViewHop[] {
  return hops.map((h) => (h.address && home.has(h.address) ? { ...h, address: null, name: null, masked: true } : h));
}

const WORD_CHAR = /[0-9A-Za-z:._-]/;

/** Whether the text at `at` continues a word (a '.' only when more of an address or name follows it). */
function continues(text: string, at: number): boolean {
  const c = text.charAt(at);
  if (!c || !WORD_CHAR.test(c)) return false;
  return c !== '.' || /[0-9A-Za-z]/.test(text.charAt(at + 1));
}

/**
 * Every other mention of a hidden address or name in a stored document (the mtr report, the findings),
 * replaced where it stands as a whole word: 198.18.1.1 goes, 198.18.1.10 stays.
 */
export function maskText(text: string, hidden: Iterable<string>, replacement: string): string {
  let out = text;
  for (const word of hidden) {
    if (!word) continue;
    let from = 0;
    let result = '';
    for (let at = out.indexOf(word); at >= 0; at = out.indexOf(word, at + word.length)) {
      const before = out.charAt(at - 1);
      if ((before && WORD_CHAR.test(before)) || continues(out, at + word.length)) continue;
      result += out.slice(from, at) + replacement;
      from = at + word.length;
    }
    out = result + out.slice(from);
  }
  return out;
}
