// Reverse DNS that never holds a report back: lookups start as soon as a hop
// appears, are cached, bounded in number, and abandoned after a timeout.
// Queries go through c-ares on the event loop, not getnameinfo() in libuv's
// thread pool: an abandoned getnameinfo thread cannot be stopped and held the
// process's exit for up to the resolver's full timeout (10 s by default).
import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { BoundedLookup } from './bounded-lookup.js';

export interface ReverseDnsOptions {
  /** Give up on one name after this many ms (default 1000). */
  timeoutMs?: number;
  /** Lookups running at once (default 8). */
  concurrency?: number;
  /** DNS servers to ask (default: the system's, from /etc/resolv.conf). */
  servers?: string[];
  /** The hosts file read before DNS, as getnameinfo does (default /etc/hosts). */
  hostsFile?: string;
}

export class ReverseDns extends BoundedLookup<string> {
  private readonly resolver: Resolver;
  private readonly hostsFile: string;
  private hosts: Map<string, string> | undefined;

  constructor(opts: ReverseDnsOptions = {}) {
    const timeoutMs = opts.timeoutMs ?? 1000;
    super(timeoutMs, opts.concurrency ?? 8);
    // One try, bounded by the timeout: c-ares then drops the query itself.
    this.resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
    if (opts.servers) this.resolver.setServers(opts.servers);
    this.hostsFile = opts.hostsFile ?? '/etc/hosts';
  }

  /** The name if known by now; starts a lookup otherwise. */
  nameOf(address: string): string | null | undefined {
    return this.known(address);
  }

  protected async lookup(address: string): Promise<string | null> {
    // c-ares' reverse() asks DNS only; getnameinfo (and mtr) read the hosts file first.
    const listed = this.hostsTable().get(address.toLowerCase());
    if (listed) return listed;
    const [name] = await this.resolver.reverse(address);
    return name && name !== address ? name : null;
  }

  private hostsTable(): Map<string, string> {
    if (this.hosts) return this.hosts;
    this.hosts = new Map();
    let text = '';
    try {
      text = readFileSync(this.hostsFile, 'utf8');
    } catch {} // no hosts file: DNS only
    for (const line of text.split('\n')) {
      const [address, name] = (line.split('#', 1)[0] ?? '').trim().split(/\s+/);
      // The first name of the first line for an address, as getnameinfo answers.
      if (address && name && !this.hosts.has(address.toLowerCase())) this.hosts.set(address.toLowerCase(), name);
    }
    return this.hosts;
  }
}
