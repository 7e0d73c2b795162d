// Fill in origin AS numbers for hops the carrier table does not name, so the
// classifier can still recognise them (AS10099 has no published prefixes, for
// one). Lookups are optional and bounded: whatever has not answered by the
// deadline stays unknown, and the result says so.
import type { AsnLookup } from '../lookup/asn.js';
import type { AsnTable } from '../lookup/asn-data.js';
import type { CarrierTable } from '../lookup/carriers.js';
import { isPrivate, type ClassifyHop } from './classify.js';

export type OriginAsSource = { kind: 'dns'; lookup: AsnLookup } | { kind: 'file'; database: AsnTable };

export interface OriginAsOptions {
  /** Longest wait for DNS answers, in ms (default 3000). */
  deadlineMs?: number;
}

/** Hops worth asking about: answered, not private, without an AS yet (from the file: every such hop). */
function needsLookup(hop: ClassifyHop, table: CarrierTable | null): hop is ClassifyHop & { address: string } {
  return !!hop.address && !hop.asn && !table?.match(hop.address) && !isPrivate(hop.address);
}

/**
 * Sets `asn` on hops the table does not name. Returns how many lookups did
 * not answer in time (for an 'as-lookup-late' note), or undefined.
 */
export async function addOriginAs(
  hops: ClassifyHop[],
  table: CarrierTable,
  source: OriginAsSource,
  opts: OriginAsOptions = {},
): Promise<{ late: number; asked: number } | undefined> {
  // Offline lookups cost nothing: every hop gets its AS, for the evidence. DNS is asked only what the table cannot say.
  const wanted = hops.filter((h) => needsLookup(h, source.kind === 'file' ? null : table));
  if (!wanted.length) return undefined;
  if (source.kind === 'file') {
    for (const h of wanted) {
      const asn = source.database.lookup(h.address);
      if (asn) h.asn = asn;
    }
    return undefined;
  }
  const { lookup } = source;
  for (const h of wanted) lookup.request(h.address);
  const deadline = Date.now() + (opts.deadlineMs ?? 3000);
  // settle() waits for the lookups running now; queued ones start as those end.
  while (wanted.some((h) => lookup.asOf(h.address) === undefined) && Date.now() < deadline) await lookup.settle();
  let unanswered = 0;
  for (const h of wanted) {
    const asn = lookup.asOf(h.address);
    if (asn === undefined || lookup.gaveUp(h.address)) unanswered++;
    else if (asn) h.asn = Number(asn);
  }
  return unanswered ? { late: unanswered, asked: wanted.length } : undefined;
}
