// Origin AS numbers from Team Cymru's DNS (`origin.asn.cymru.com` TXT
// records, `origin6` for IPv6), the way mtr -z asks. Asynchronous, cached,
// a few at a time, each abandoned after a timeout: never holds a report back.
import { Resolver } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

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

/** "15169 | 8.8.8.0/24 | US | arin | 2000-03-30" -> "15169" (first AS of a multi-origin answer). */
export function parseCymru(txt: string): string | null {
  const m = /^\s*(\d+)/.exec(txt);
  return m ? m[1]! : null;
}

export class AsnLookup {
  private readonly results = new Map<string, string | null>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly queue: string[] = [];
  private running = 0;
  private readonly resolver: Resolver;
  private readonly timeoutMs: number;
  private readonly concurrency: number;

  constructor(opts: AsnLookupOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1500;
    this.concurrency = opts.concurrency ?? 8;
    this.resolver = new Resolver({ timeout: this.timeoutMs, tries: 1 });
    if (opts.servers) this.resolver.setServers(opts.servers);
  }

  /** "15169" when known, null when looked up and not found, undefined while unknown. */
  asOf(address: string): string | null | undefined {
    if (this.results.has(address)) return this.results.get(address);
    this.request(address);
    return undefined;
  }

  request(address: string): void {
    if (this.results.has(address) || this.pending.has(address) || this.queue.includes(address)) return;
    this.queue.push(address);
    this.pump();
  }

  /** Wait for lookups in progress, never longer than the timeout. */
  async settle(): Promise<void> {
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, this.timeoutMs).unref());
    await Promise.race([Promise.all([...this.pending.values()]), deadline]);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length) {
      const address = this.queue.shift()!;
      this.running++;
      const work = this.resolve(address).finally(() => {
        this.running--;
        this.pending.delete(address);
        this.pump();
      });
      this.pending.set(address, work);
    }
  }

  private async resolve(address: string): Promise<void> {
    let asn: string | null = null;
    try {
      const records = await this.resolver.resolveTxt(cymruName(address));
      for (const r of records) {
        asn = parseCymru(r.join(''));
        if (asn) break;
      }
    } catch {
      asn = null;
    }
    this.results.set(address, asn);
  }
}
