// Reverse DNS that never holds a report back: lookups start as soon as a hop
// appears, are cached, bounded in number, and abandoned after a timeout.
import { lookupService } from 'node:dns/promises';

export interface ReverseDnsOptions {
  /** Give up on one name after this many ms (default 1000). */
  timeoutMs?: number;
  /** Lookups running at once (each holds a libuv thread; default 4). */
  concurrency?: number;
}

export class ReverseDns {
  private readonly names = new Map<string, string | null>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly queue: string[] = [];
  private running = 0;
  private readonly timeoutMs: number;
  private readonly concurrency: number;

  constructor(opts: ReverseDnsOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.concurrency = opts.concurrency ?? 4;
  }

  /** The name if known by now; starts a lookup otherwise. */
  nameOf(address: string): string | null | undefined {
    if (this.names.has(address)) return this.names.get(address);
    this.request(address);
    return undefined;
  }

  request(address: string): void {
    if (this.names.has(address) || this.pending.has(address) || this.queue.includes(address)) return;
    this.queue.push(address);
    this.pump();
  }

  /** Wait for lookups in progress, but never longer than the timeout. */
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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.timeoutMs);
      timer.unref();
    });
    // getnameinfo also reads /etc/hosts, unlike c-ares' reverse().
    const lookup = lookupService(address, 0).then(
      (r) => (r.hostname && r.hostname !== address ? r.hostname : null),
      () => null,
    );
    const name = await Promise.race([lookup, timeout]);
    clearTimeout(timer);
    this.names.set(address, name);
  }
}
