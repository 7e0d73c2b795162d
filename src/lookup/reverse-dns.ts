// Reverse DNS that never holds a report back: lookups start as soon as a hop
// appears, are cached, bounded in number, and abandoned after a timeout.
import { lookupService } from 'node:dns/promises';
import { BoundedLookup } from './bounded-lookup.js';

export interface ReverseDnsOptions {
  /** Give up on one name after this many ms (default 1000). */
  timeoutMs?: number;
  /** Lookups running at once (each holds a libuv thread; default 4). */
  concurrency?: number;
}

export class ReverseDns extends BoundedLookup<string> {
  constructor(opts: ReverseDnsOptions = {}) {
    super(opts.timeoutMs ?? 1000, opts.concurrency ?? 4);
  }

  /** The name if known by now; starts a lookup otherwise. */
  nameOf(address: string): string | null | undefined {
    return this.known(address);
  }

  protected async lookup(address: string): Promise<string | null> {
    // getnameinfo also reads /etc/hosts, unlike c-ares' reverse().
    const r = await lookupService(address, 0);
    return r.hostname && r.hostname !== address ? r.hostname : null;
  }
}
