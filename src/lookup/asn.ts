// Origin AS numbers from Team Cymru's DNS (`origin.asn.cymru.com` TXT
// records, `origin6` for IPv6), the way mtr -z asks. Asynchronous, cached,
// a few at a time, each abandoned after a timeout: never holds a report back.
import { Resolver } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { BoundedLookup } from './bounded-lookup.js';

export interface AsnLookupOptions {
  timeoutMs?: number;
  concurrency?: number;
  /** DNS servers to ask (default: the system's). */
  servers?: string[];
}

/** The DNS name Team Cymru answers for `address`. */
export function cymruName(address: string): string {
  const a = ipaddr.parse(address);
  if (a.kind() === 'ipv4') return `${a.toByteArray().reverse().join('.')}.origin.asn.cymru.com`;
  const hex = a
    .toByteArray()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return `${[...hex].reverse().join('.')}.origin6.asn.cymru.com`;
}

/**
 * Space that is never routed between networks has no origin AS, and asking
 * about it would only tell an outside resolver about private topology: it is
 * answered "unknown" (mtr's AS???) without a query. Benchmarking space
 * (198.18.0.0/15) is asked about: labs use it, this project's among them.
 */
const NO_ORIGIN_AS = new Set([
  'unspecified',
  'loopback',
  'private',
  'linkLocal',
  'uniqueLocal',
  'carrierGradeNat',
  'multicast',
  'broadcast',
]);

export function hasOriginAs(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return !NO_ORIGIN_AS.has(ipaddr.process(address).range());
}

/** "15169 | 8.8.8.0/24 | US | arin | 2000-03-30" -> "15169" (first AS of a multi-origin answer). */
export function parseCymru(txt: string): string | null {
  return /^\s*(\d+)/.exec(txt)?.[1] ?? null;
}

export class AsnLookup extends BoundedLookup<string> {
  private readonly resolver: Resolver;

  constructor(opts: AsnLookupOptions = {}) {
    super(opts.timeoutMs ?? 1500, opts.concurrency ?? 8);
    this.resolver = new Resolver({ timeout: this.timeoutMs, tries: 1 });
    if (opts.servers) this.resolver.setServers(opts.servers);
  }

  /** "15169" when known, null when looked up and not found, undefined while unknown. */
  asOf(address: string): string | null | undefined {
    return this.known(address);
  }

  protected async lookup(address: string): Promise<string | null> {
    if (!hasOriginAs(address)) return null;
    const records = await this.resolver.resolveTxt(cymruName(address));
    for (const r of records) {
      const asn = parseCymru(r.join(''));
      if (asn) return asn;
    }
    return null;
  }
}
